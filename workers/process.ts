/** A worker process: backends, the pool, graceful stop on signals. */
import { connectBackends } from '../src/app.js';
import type { Config } from '../src/config.js';
import { BUILTIN_JOB_TYPES } from '../src/jobs/catalog.js';
import { typesByName, type JobType } from '../src/jobs/definition.js';
import { createLogger } from '../src/log.js';
import { names } from '../src/messaging/names.js';
import { warnIfMetricsOpen } from '../src/observability/metrics-endpoint.js';
import { startMetricsServer } from '../src/observability/metrics-server.js';
import { scrapeRegistry } from '../src/observability/scrape.js';
import { startTracing } from '../src/observability/tracing.js';
import { stopOnSignals, handleUncaughtErrors } from '../src/process.js';
import type { BoundHandler } from './handler.js';
import { startWorkerPool } from './pool.js';
import { BUILTIN_HANDLERS } from './registry.js';

export async function runWorkerProcess(
  config: Config,
  types: readonly JobType[] = BUILTIN_JOB_TYPES,
  handlers: readonly BoundHandler[] = BUILTIN_HANDLERS,
): Promise<void> {
  const log = createLogger(config.LOG_LEVEL, 'longrun-worker');
  handleUncaughtErrors(log);
  const { db, nats } = await connectBackends(config, types, 'longrun-worker', { notifier: false, log });
  const tracing = startTracing({ endpoint: config.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: `${config.OTEL_SERVICE_NAME}-worker` });
  const n = names(config.LONGRUN_PREFIX);
  const pool = await startWorkerPool(config, { sql: db.sql, nats, names: n, log, types: typesByName(types) }, handlers);
  const metricTypes = config.WORKER_TYPES.length ? config.WORKER_TYPES : handlers.map((h) => h.type.name);
  // A second worker on the same machine finds the port taken: it runs on without /metrics (set METRICS_PORT).
  const metrics = config.METRICS_PORT
    ? await startMetricsServer(config.METRICS_PORT, config.HOST, scrapeRegistry({ nats, names: n, types: metricTypes, log }), config.METRICS_TOKEN, log).catch(
        (e: NodeJS.ErrnoException) => {
          if (e.code !== 'EADDRINUSE') throw e;
          log.warn({ port: config.METRICS_PORT }, 'metrics port in use (another worker?): this worker serves no /metrics; set METRICS_PORT');
          return null;
        },
      )
    : null;
  if (metrics) {
    log.info({ port: metrics.port }, 'worker metrics on /metrics');
    warnIfMetricsOpen(config, log, metrics.port);
  }
  log.info({ concurrency: pool.concurrency, rateLimits: pool.rateLimits, pid: process.pid }, 'worker started');
  process.stdout.write(`longrun worker started (pid ${process.pid}, ${handlers.length} job types)\n`);
  stopOnSignals(async () => {
    await pool.stop(config.SHUTDOWN_GRACE_MS);
    await metrics?.close();
    await tracing.shutdown();
    await nats.close();
    await db.close();
  }, log);
}
