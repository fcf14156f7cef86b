/**
 * `npm start`: the API with an in-process worker pool (set WORKER_CONCURRENCY=0 for API only).
 * This composition root is the one place in src/ that reaches into workers/.
 */
import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startTracing } from './observability/tracing.js';
import { startWorkerPool } from '../workers/pool.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  const tracing = startTracing({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: config.OTEL_SERVICE_NAME });
  const app = await startApp({
    config,
    log,
    workers: config.WORKER_CONCURRENCY > 0 ? (deps) => startWorkerPool(config, deps) : undefined,
  });
  log.info({ url: app.url }, 'longrun is up');
  process.stdout.write(`\nlongrun is running. GraphiQL: ${app.url}\n\n`);

  let signals = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    if (++signals > 1) {
      log.warn('second signal: exiting now');
      process.exit(1);
    }
    log.info({ signal: sig }, 'shutting down: finishing running jobs');
    app.stop().then(() => tracing.shutdown()).then(
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
