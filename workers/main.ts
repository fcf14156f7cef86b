/**
 * `npm run worker`: a worker process alone (start several to scale out). It needs the API's database and
 * NATS, and creates/migrates/ensures them itself so it can start first.
 */
import { connectBackends } from '../src/app.js';
import { ConfigError, loadConfig } from '../src/config.js';
import { BUILTIN_JOB_TYPES } from '../src/jobs/catalog.js';
import { createLogger } from '../src/log.js';
import { names } from '../src/messaging/names.js';
import { startMetricsServer } from '../src/observability/metrics-server.js';
import { scrapeRegistry } from '../src/observability/scrape.js';
import { startTracing } from '../src/observability/tracing.js';
import { startWorkerPool } from './pool.js';

async function main(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(config.LOG_LEVEL, 'longrun-worker');
  const { db, nats } = await connectBackends(config, BUILTIN_JOB_TYPES, 'longrun-worker');
  const tracing = startTracing({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: `${config.OTEL_SERVICE_NAME}-worker` });
  const n = names(config.LONGRUN_PREFIX);
  const pool = await startWorkerPool(config, { sql: db.sql, nats, names: n, log });
  const types = config.WORKER_TYPES.length ? config.WORKER_TYPES : BUILTIN_JOB_TYPES.map((t) => t.name);
  const metrics = config.METRICS_PORT
    ? await startMetricsServer(config.METRICS_PORT, config.HOST, scrapeRegistry({ nats, names: n, types, log }))
    : null;
  if (metrics) log.info({ port: metrics.port }, 'worker metrics on /metrics');
  log.info({ concurrency: config.WORKER_CONCURRENCY, pid: process.pid }, 'worker started');

  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(1);
    log.info('stopping: finishing running jobs');
    void pool
      .stop(config.SHUTDOWN_GRACE_MS)
      .then(() => metrics?.close())
      .then(() => tracing.shutdown())
      .then(() => nats.close())
      .then(() => db.close())
      .then(() => process.exit(0), () => process.exit(1));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

main().catch((e: unknown) => {
  process.stderr.write(`longrun worker: ${e instanceof ConfigError || e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
