/**
 * `npm start`: the API with an in-process worker pool (set WORKER_CONCURRENCY=0 for API only).
 * This composition root is the one place in src/ that reaches into workers/.
 */
import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startWorkerPool } from '../workers/pool.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const app = await startApp({
    config,
    log,
    workers: config.WORKER_CONCURRENCY > 0 ? (deps) => startWorkerPool(config, deps) : undefined,
  });
  log.info({ url: app.url }, 'longrun is up');
  process.stdout.write(`\nlongrun is running. GraphiQL: ${app.url}\n`);
  if (app.devKey) {
    process.stdout.write(`Development API key (pre-filled in GraphiQL, kept in .data/dev-key):\n  Authorization: Bearer ${app.devKey}\n`);
  }
  if (!config.LONGRUN_AUTH) process.stdout.write('WARNING: authentication is OFF (LONGRUN_AUTH=off): every caller is an admin.\n');
  process.stdout.write('\n');

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn('second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal: sig }, 'shutting down: finishing running jobs');
    app.stop().then(
      () => process.exit(0),
      (e) => {
        log.error({ err: e }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((e: unknown) => {
  const msg = e instanceof ConfigError ? e.message : e instanceof Error ? e.message : String(e);
  process.stderr.write(`longrun: ${msg}\n`);
  process.exit(1);
});
