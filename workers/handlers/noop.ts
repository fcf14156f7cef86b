import { noopJob } from '../../src/jobs/catalog.js';
import { defineHandler } from '../handler.js';

export default defineHandler(noopJob, () => null);
