/**
 * The bench's API process: `startApp` with the built-in and bench job types and no in-process workers.
 * Started by bench/stack.ts with `fork` (it reports its URL over IPC) and stopped with a `stop` message.
 */
import { startApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { BENCH_TYPES } from './jobs.js';

const config = loadConfig();
const app = await startApp({ config, log: createLogger(config.LOG_LEVEL), types: BENCH_TYPES });
process.send?.({ type: 'ready', url: app.url, wsUrl: app.wsUrl });

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  const t0 = Date.now();
  app.stop().then(
    () => {
      process.stderr.write(`[bench api] stopped in ${Date.now() - t0} ms\n`);
      process.exit(0);
    },
    (e: unknown) => {
      process.stderr.write(`[bench api] stop failed: ${String(e)}\n`);
      process.exit(1);
    },
  );
};
process.on('message', (m: { type: string }) => m.type === 'stop' && stop());
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
