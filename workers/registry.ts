/** The handlers this worker build runs, keyed by job type name. */
import type { BoundHandler } from './handler.js';
import flaky from './handlers/flaky.js';
import hash from './handlers/hash.js';
import noop from './handlers/noop.js';
import sleep from './handlers/sleep.js';

export const BUILTIN_HANDLERS: readonly BoundHandler[] = [sleep, flaky, hash, noop];
