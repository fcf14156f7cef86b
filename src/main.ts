/**
 * `npm start`: the API with an in-process worker pool (set WORKER_CONCURRENCY=0 for API only).
 * This composition root is the one place in src/ that reaches into workers/.
 */
import { startApp } from './app.js';
import { loadConfig } from './config.js';
import { createLogger } from './log.js';
import { startTracing } from './observability/tracing.js';
import { exitWithError, stopOnSignals, handleUncaughtErrors } from './process.js';
import { startWorkerPool } from '../workers/pool.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL);
  handleUncaughtErrors(log);
  const tracing = startTracing({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: config.OTEL_SERVICE_NAME });
  const app = await startApp({
    config,
    log,
    workers: config.WORKER_CONCURRENCY > 0 ? (deps) => startWorkerPool(config, deps) : undefined,
  });
  log.info({ url: app.url, workers: config.WORKER_CONCURRENCY }, 'longrun is up');
  process.stdout.write(`\nlongrun is running. GraphiQL: ${app.url}\n`);
  if (app.devKey) {
    process.stdout.write(`Development API key (pre-filled in GraphiQL, kept in .data/dev-key):\n  Authorization: Bearer ${app.devKey}\n`);
  }
  if (!config.LONGRUN_AUTH) process.stdout.write('WARNING: authentication is OFF (LONGRUN_AUTH=off): every caller is an admin.\n');
  process.stdout.write('\n');

  stopOnSignals(() => app.stop().finally(() => tracing.shutdown()), log);
}

main().catch((e: unknown) => exitWithError('longrun', e));
