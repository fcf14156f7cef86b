/**
 * A real longrun for one test file: its own database (cloned from the run's migrated template), its own
 * NATS name prefix, the API on a free port, and (by default) an in-process worker pool. Everything it
 * made is removed in `dispose()`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { startApp, type App, type AppOptions } from '../../src/app.js';
import { generateKey } from '../../src/auth/keys.js';
import { insertApiKey, revokeApiKey } from '../../src/db/api-keys.js';
import { createDb, type Db } from '../../src/db/client.js';
import type { NewJob } from '../../src/db/jobs.js';
import { loadConfig, type Config } from '../../src/config.js';
import type { JobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { createLogger, type Logger } from '../../src/log.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { BoundHandler } from '../../workers/handler.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { ADMIN_URL, NATS_URL } from '../setup/global.js';
import { migrateDatabase } from '../../src/db/migrate.js';
import { useFixture } from './fixture.js';
import { startTcpProxyFor, type TcpProxy } from './proxy.js';
import { setDefaultKey } from './graphql.js';

export interface TestEnv {
  /** Database URL and NATS prefix for this file. */
  databaseUrl: string;
  prefix: string;
  natsUrl: string;
  /** Environment for child processes (workers, API) of this file. */
  env: Record<string, string>;
  sql: postgres.Sql;
  dispose(): Promise<void>;
}

export async function createTestEnv(o: { natsUrl?: string; adminUrl?: string } = {}): Promise<TestEnv> {
  const id = `${inject('runId')}_${randomBytes(3).toString('hex')}`;
  const dbName = `lr_test_${id}`;
  const adminUrl = o.adminUrl ?? ADMIN_URL;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  // The run's migrated template lives on the shared server; a private server gets migrated directly.
  await admin.unsafe(`create database ${dbName}${o.adminUrl ? '' : ` template ${inject('templateDb')}`}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${dbName}`;
  const databaseUrl = url.toString();
  if (o.adminUrl) await migrateDatabase(databaseUrl);
  const prefix = `t${id}_`;
  const natsUrl = o.natsUrl ?? NATS_URL;
  const sql = postgres(databaseUrl, { max: 3, onnotice: () => {} });
  return {
    databaseUrl,
    prefix,
    natsUrl,
    env: { DATABASE_URL: databaseUrl, NATS_URL: natsUrl, LONGRUN_PREFIX: prefix, LOG_LEVEL: 'warn', NODE_ENV: 'test' },
    sql,
    async dispose() {
      await sql.end({ timeout: 2 });
      await removeStreams(natsUrl, prefix).catch(() => {});
      const a = postgres(adminUrl, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${dbName} with (force)`).catch(() => {});
      await a.end();
    },
  };
}

/**
 * For a file that talks to the database directly: its test env and a pool of `poolSize` connections on its
 * database, made before the file's tests and removed after them.
 */
export function useTestDb(poolSize = 2): { readonly env: TestEnv; readonly db: Db } {
  return useFixture(async (later) => {
    const env = await createTestEnv();
    later(() => env.dispose());
    const db = createDb(env.databaseUrl, poolSize);
    later(() => db.close());
    return { env, db };
  });
}

/** A valid job for `insertJobs`, with `over` replacing fields. */
export const newJob = (over: Partial<NewJob> = {}): NewJob => ({
  id: randomUUID(),
  owner: 'o',
  type: 'demo.noop',
  payload: {},
  maxAttempts: 1,
  timeoutMs: 1000,
  idempotencyKey: null,
  traceparent: null,
  subject: 's',
  ...over,
});

/** Deletes every stream whose name starts with the prefix. */
export async function removeStreams(natsUrl: string, prefix: string): Promise<void> {
  const nc = await connect({ servers: natsUrl, timeout: 2000, maxReconnectAttempts: 0 });
  try {
    const jsm = await jetstreamManager(nc);
    for await (const s of jsm.streams.list()) {
      if (s.config.name.startsWith(prefix)) await jsm.streams.delete(s.config.name);
    }
  } finally {
    await nc.close();
  }
}

export interface TestAppOptions {
  env?: TestEnv;
  /** Config overrides (strings, as in the environment). */
  config?: Record<string, string>;
  types?: readonly JobType[];
  handlers?: readonly BoundHandler[] | null;
  /** Further options of startApp (GraphiQL, development key). */
  app?: Pick<AppOptions, 'graphiql' | 'devKey' | 'devKeyFile'>;
  /** Logger of the app (default: JSON on stdout at LOG_LEVEL). */
  log?: Logger;
}

export interface TestApp {
  app: App;
  env: TestEnv;
  config: Config;
  url: string;
  wsUrl: string;
  /**
   * An admin key (owner `test`) that the helpers of ./graphql.ts send to this app unless told otherwise;
   * null when the app runs with LONGRUN_AUTH=off.
   */
  key: string | null;
  /** A new API key in this app's database. */
  createKey(owner: string, admin?: boolean): Promise<{ id: string; key: string }>;
  revokeKey(id: string): Promise<void>;
  /** Stops the app (and the env when the app made it). */
  dispose(): Promise<void>;
}

/** Starts the API (with workers unless `handlers: null`) for one test file. */
export async function startTestApp(o: TestAppOptions = {}): Promise<TestApp> {
  const env = o.env ?? (await createTestEnv());
  const config = loadConfig({ ...env.env, PORT: '0', HOST: '127.0.0.1', ACK_WAIT_MS: '5000', RELAY_INTERVAL_MS: '200', SHUTDOWN_GRACE_MS: '2000', SUBMIT_RATE_PER_SEC: '0', ...o.config });
  const handlers = o.handlers === undefined ? BUILTIN_HANDLERS : o.handlers;
  const app = await startApp({
    config,
    log: o.log ?? createLogger(config.LOG_LEVEL),
    types: o.types ?? BUILTIN_JOB_TYPES,
    ...o.app,
    workers: handlers ? (deps) => startWorkerPool(config, deps, handlers) : undefined,
  });
  const createKey = async (owner: string, admin = false) => {
    const k = generateKey();
    await insertApiKey(env.sql, { id: k.id, owner, admin, keyHash: k.keyHash });
    return { id: k.id, key: k.key };
  };
  const key = config.LONGRUN_AUTH ? (await createKey('test', true)).key : null;
  setDefaultKey(app.url, key);
  return {
    app,
    env,
    config,
    url: app.url,
    wsUrl: app.wsUrl,
    key,
    createKey,
    async revokeKey(id) {
      await revokeApiKey(env.sql, id);
    },
    async dispose() {
      setDefaultKey(app.url, null);
      await app.stop();
      if (!o.env) await env.dispose();
    },
  };
}

/** `select count(*)` of a table, optionally with a WHERE clause (test-only SQL). */
export async function countRows(sql: postgres.Sql, table: string, where = 'true'): Promise<number> {
  const [row] = await sql.unsafe<{ n: number }[]>(`select count(*)::int as n from ${table} where ${where}`);
  return row!.n;
}

/** The worker pool of an app started with `handlers: null`, switched on and off by the test. */
export interface WorkerSwitch {
  /** Starts the pool (no-op when running). */
  start(): Promise<void>;
  /** Stops the pool gracefully (no-op when stopped). */
  stop(): Promise<void>;
}

/**
 * Lets a test hold jobs QUEUED until a watcher is attached, then start the workers, so it sees a job's whole
 * run however slow the machine is.
 */
export function workerSwitch(t: TestApp, handlers: readonly BoundHandler[] = BUILTIN_HANDLERS): WorkerSwitch {
  let pool: Awaited<ReturnType<typeof startWorkerPool>> | null = null;
  return {
    async start() {
      pool ??= await startWorkerPool(t.config, t.app.deps, handlers);
    },
    async stop() {
      const p = pool;
      pool = null;
      await p?.stop(t.config.SHUTDOWN_GRACE_MS);
    },
  };
}

/**
 * For a file that holds jobs QUEUED while its workers are off: the app without workers and its
 * `workerSwitch`, made before the file's tests and removed (workers stopped first) after them.
 */
export function useAppWithWorkerSwitch(): { readonly t: TestApp; readonly workers: WorkerSwitch } {
  return useFixture(async (later) => {
    const t = await startTestApp({ handlers: null });
    later(() => t.dispose());
    const workers = workerSwitch(t);
    later(() => workers.stop());
    return { t, workers };
  });
}

/**
 * For a file that slows or cuts one service for one of its processes: its test env, a TCP proxy in front of
 * `service` (the env's database or NATS), and two apps on the env: `direct`, and `proxied`, which reaches
 * that service through the proxy. Made before the file's tests and removed (proxied app first) after them.
 */
export function useProxiedApps(o: {
  service: 'DATABASE_URL' | 'NATS_URL';
  direct: Omit<TestAppOptions, 'env'>;
  proxied: Omit<TestAppOptions, 'env'>;
}): { readonly env: TestEnv; readonly proxy: TcpProxy; readonly direct: TestApp; readonly proxied: TestApp } {
  return useFixture(async (later) => {
    const env = await createTestEnv();
    later(() => env.dispose());
    const through = await startTcpProxyFor(o.service === 'NATS_URL' ? env.natsUrl : env.databaseUrl);
    later(() => through.proxy.close());
    const direct = await startTestApp({ ...o.direct, env });
    later(() => direct.dispose());
    const proxied = await startTestApp({ ...o.proxied, env, config: { ...o.proxied.config, [o.service]: through.url } });
    later(() => proxied.dispose());
    return { env, proxy: through.proxy, direct, proxied };
  });
}
