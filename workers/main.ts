/**
 * `npm run worker`: a worker process alone (start several to scale out). It needs the API's database and
 * NATS, and creates/migrates/ensures them itself so it can start first.
 */
import { loadConfig } from '../src/config.js';
import { exitWithError } from '../src/process.js';
import { runWorkerProcess } from './process.js';

// loadConfig inside the promise: a bad setting is the one-line error too, not an uncaught exception's stack.
Promise.resolve()
  .then(() => runWorkerProcess(loadConfig()))
  .catch((e: unknown) => exitWithError('longrun worker', e));
