/**
 * Starts one longrun API process: database (created and migrated), NATS (streams ensured), the outbox
 * relay, the HTTP/WebSocket server (its port bound before anything takes work), the notifier, the
 * dead-letter recorder, retention, the scheduler (recurring jobs), the expiry pass (startBy) and optionally a
 * worker pool; a start that
 * fails stops what it started.
 * `stop()` shuts down in order: readiness off → workers finish (grace) → subscriptions closed and HTTP
 * drained → retention, scheduler, expiry, relay and recorder → NATS drained → database closed.
 */
import type { AddressInfo } from 'node:net';
import { createAuthenticator } from './auth/authenticate.js';
import { ensureDevKey } from './auth/dev-key.js';
import type { Config } from './config.js';
import { createDb, POOL_SIZE, type Db } from './db/client.js';
import { createHistoryReader } from './db/history.js';
import { createJobInserter } from './db/jobs.js';
import { ensureDatabase, migrateDatabase } from './db/migrate.js';
import { buildSchema } from './graphql/schema.js';
import { startHttpServer, type HttpServer } from './http/server.js';
import type { GraphiqlOptions } from './http/graphiql.js';
import { securityOptions } from './http/security.js';
import { BUILTIN_JOB_TYPES } from './jobs/catalog.js';
import { typesByName, type JobType } from './jobs/definition.js';
import type { JobDeps } from './jobs/deps.js';
import { createLogger, type Logger } from './log.js';
import { connectNats, type Nats } from './messaging/connect.js';
import { startDeadLetterRecorder, type DeadLetterRecorder } from './messaging/dead-letter-recorder.js';
import { names } from './messaging/names.js';
import { createOutboxRelay } from './messaging/outbox-relay.js';
import { ensureStreams } from './messaging/streams.js';
import { createUpdateHub, type UpdateHub } from './progress/hub.js';
import { createRereadGroups } from './progress/reread-groups.js';
import { createSharedReads } from './progress/shared-reads.js';
import { retentionAges, startRetention, type Retention } from './jobs/retention.js';
import { startExpiry, type Expiry } from './jobs/expiry.js';
import { startScheduler, type Scheduler } from './jobs/schedules.js';
import type { Notifier } from './notifications/notifier.js';
import { notifySettings, startConfiguredNotifier } from './notifications/setup.js';
import { warnIfMetricsOpen } from './observability/metrics-endpoint.js';

/** A worker pool started inside the API process (see workers/runner.ts). */
export interface InProcessWorkers {
  stop(graceMs: number): Promise<void>;
}

export interface AppOptions {
  config: Config;
  types?: readonly JobType[];
  log?: Logger;
  /** Starts the in-process worker pool, given the shared clients. */
  workers?: (deps: JobDeps) => Promise<InProcessWorkers>;
  /** GraphiQL options; by default the development key (if any) is pre-filled in its headers. */
  graphiql?: GraphiqlOptions;
  /** Create (once) and pre-fill the development key. @default NODE_ENV is development and auth is on */
  devKey?: boolean;
  /** Where the development key is kept. @default .data/dev-key */
  devKeyFile?: string;
}

export interface App {
  url: string;
  wsUrl: string;
  http: HttpServer;
  deps: JobDeps;
  db: Db;
  hub: UpdateHub;
  deadLetters: DeadLetterRecorder;
  /** The retention loop (src/jobs/retention.ts). */
  retention: Retention;
  /** The development key (src/auth/dev-key.ts), when one is in use. */
  devKey: string | null;
  stop(): Promise<void>;
}

/**
 * Connects to what every longrun process needs: the migrated database and NATS with its streams (made at
 * connect, and again whenever they go missing: `Nats.repairIfMissing`). `notifier`: the process runs the
 * notifier (an API process) and sets up its consumer.
 */
export async function connectBackends(
  config: Config,
  types: readonly JobType[],
  name: string,
  o: { notifier: boolean; log: Logger },
): Promise<{ db: Db; nats: Nats }> {
  await ensureDatabase(config.DATABASE_URL);
  await migrateDatabase(config.DATABASE_URL);
  const db = createDb(config.DATABASE_URL, POOL_SIZE, config.DATABASE_SILENCE_TIMEOUT_MS);
  const settings = {
    ackWaitMs: config.ACK_WAIT_MS,
    duplicateWindowMs: config.DUPLICATE_WINDOW_MS,
    ...(o.notifier ? { notifyAckWaitMs: config.WEBHOOK_TIMEOUT_MS + 20_000 } : {}),
  };
  try {
    const nats = await connectNats({
      servers: config.NATS_URL,
      name,
      streams: { ensure: (jsm) => ensureStreams(jsm, names(config.LONGRUN_PREFIX), types, settings), log: o.log },
    });
    return { db, nats };
  } catch (e) {
    await db.close();
    throw e;
  }
}

export async function startApp(o: AppOptions): Promise<App> {
  const { config } = o;
  const log = o.log ?? createLogger(config.LOG_LEVEL);
  const types = o.types ?? BUILTIN_JOB_TYPES;
  const { db, nats } = await connectBackends(config, types, 'longrun-api', { notifier: true, log });
  const n = names(config.LONGRUN_PREFIX);
  const relay = createOutboxRelay({
    sql: db.sql,
    nats,
    names: n,
    log,
    intervalMs: config.RELAY_INTERVAL_MS,
    reconcileAfterMs: config.RECONCILE_AFTER_MS,
    ackWaitMs: config.ACK_WAIT_MS,
  });
  const deps: JobDeps = {
    sql: db.sql,
    nats,
    names: n,
    log,
    types: typesByName(types),
    relay,
    insertJobs: createJobInserter(db.sql),
    readHistory: createHistoryReader(db.sql),
    shareReads: createSharedReads(),
    rereadGroups: createRereadGroups(db.sql),
    maxOperationPayloadBytes: Math.max(config.HTTP_BODY_LIMIT_BYTES, config.WS_MAX_MESSAGE_BYTES),
  };
  deps.notify = notifySettings(config);
  const hub = createUpdateHub(nats.nc);

  // What has started; `stop` stops it in this order, and a start that fails half-way stops what it started.
  let http: HttpServer | null = null;
  let notifier: Notifier | null = null;
  let deadLetters: DeadLetterRecorder | null = null;
  let retention: Retention | null = null;
  let scheduler: Scheduler | null = null;
  let expiry: Expiry | null = null;
  let workers: InProcessWorkers | null = null;
  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      http?.setDraining();
      await workers?.stop(config.SHUTDOWN_GRACE_MS);
      await http?.close();
      await retention?.stop();
      await scheduler?.stop();
      await expiry?.stop();
      await relay.stop();
      await notifier?.stop();
      await deadLetters?.stop();
      hub.close();
      await nats.close();
      await db.close();
    })();
    return stopping;
  };

  try {
    const auth = createAuthenticator({ sql: db.sql, enabled: config.LONGRUN_AUTH });
    if (!auth.enabled) {
      log.warn('AUTHENTICATION IS OFF (LONGRUN_AUTH=off): anyone who can reach this port is an admin; never do this outside local development');
    }
    const devKey = (o.devKey ?? (config.NODE_ENV === 'development' && auth.enabled)) ? (await ensureDevKey(db.sql, o.devKeyFile)).key : null;
    // The port first: a start that cannot have it fails before anything here takes work from NATS (a job, a
    // notification, a dead letter) that its exit would leave held until AckWait.
    http = await startHttpServer({
      schema: buildSchema(),
      deps,
      hub,
      port: config.PORT,
      host: config.HOST,
      dev: config.NODE_ENV === 'development',
      graphiql: { ...(devKey ? { defaultHeaders: { Authorization: `Bearer ${devKey}` } } : {}), ...o.graphiql },
      security: securityOptions(config, auth),
      log,
      metrics: { nats, names: n, types: [...types.map((t) => t.name)], sql: db.sql, log },
      metricsToken: config.METRICS_TOKEN,
      ready: async () => {
        await db.sql`select 1`;
        if (nats.nc.isClosed()) return false;
        await nats.jsm.streams.info(n.jobsStream);
        return true;
      },
    });
    warnIfMetricsOpen(config, log, (http.server.address() as AddressInfo).port);

    notifier = await startConfiguredNotifier(config, { sql: db.sql, nats, names: n, log });
    deadLetters = await startDeadLetterRecorder(
      { sql: db.sql, nats, names: n, log },
      { ackWaitMs: config.ACK_WAIT_MS, sweepIntervalMs: Math.max(1000, Math.min(config.ACK_WAIT_MS, 10_000)) },
    );
    retention = startRetention({ sql: db.sql, nats, names: n, log }, { ages: retentionAges(config), intervalMs: config.RETENTION_INTERVAL_MS });
    scheduler = startScheduler(deps, { intervalMs: config.RELAY_INTERVAL_MS });
    expiry = startExpiry(deps, { intervalMs: config.RELAY_INTERVAL_MS });
    workers = o.workers ? await o.workers(deps) : null;
    return { url: http.url, wsUrl: http.wsUrl, http, deps, db, hub, deadLetters, retention, devKey, stop };
  } catch (e) {
    await stop().catch((err: unknown) => log.warn({ err }, 'stopping what a failed start had started failed'));
    throw e;
  }
}
