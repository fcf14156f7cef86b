/**
 * The real stack the bench measures: its own database (`longrun_bench`, dropped before and after) and NATS
 * prefix (`bench_`, streams deleted before and after), one API process (WORKER_CONCURRENCY=0) and worker
 * processes started per phase.
 */
import { mkdirSync } from 'node:fs';
import postgres from 'postgres';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { forkChild, type Child } from './child.js';
import { enableStatements } from './pgstats.js';

export interface StackOptions {
  /** Server URL without a database, e.g. postgres://postgres@127.0.0.1:5432 */
  pgServer: string;
  database: string;
  natsUrl: string;
  prefix: string;
  concurrency: number;
  /** Directory for `--cpu-prof` output of the API and worker processes, or null. */
  profileDir: string | null;
  logLevel: string;
}

export interface Stack {
  /** GraphQL over HTTP and over WebSocket. */
  url: string;
  wsUrl: string;
  api: Child;
  /** The bench's own PostgreSQL client (one connection) on the bench database. */
  sql: postgres.Sql;
  /** pg_stat_statements is available in the bench database (the server preloads it). */
  pgStatements: boolean;
  /** PID of that connection's backend (left out of CPU accounting). */
  ownBackendPid: number;
  nc: NatsConnection;
  jsm: JetStreamManager;
  databaseUrl: string;
  /** Forks a worker process with `concurrency` slots (default: `--concurrency`); it connects and waits for `start`. */
  startWorker(concurrency?: number): Promise<Child>;
  stop(): Promise<void>;
}

async function deleteStreams(jsm: JetStreamManager, prefix: string): Promise<void> {
  for await (const s of jsm.streams.list()) if (s.config.name.startsWith(prefix)) await jsm.streams.delete(s.config.name);
}

async function dropDatabase(server: string, name: string): Promise<void> {
  const admin = postgres(`${server}/postgres`, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`drop database if exists "${name}" with (force)`);
  } finally {
    await admin.end({ timeout: 5 });
  }
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const databaseUrl = `${o.pgServer}/${o.database}`;
  await dropDatabase(o.pgServer, o.database);
  const nc = await connect({ servers: o.natsUrl, name: 'longrun-bench' });
  const jsm = await jetstreamManager(nc);
  await deleteStreams(jsm, o.prefix);
  if (o.profileDir) mkdirSync(o.profileDir, { recursive: true });
  // One file per thread (tsx runs its loader in a second thread), named CPU.<date>.<time>.<pid>.<tid>…
  const prof = o.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${o.profileDir}`] : [];
  const env = {
    DATABASE_URL: databaseUrl,
    NATS_URL: o.natsUrl,
    LONGRUN_PREFIX: o.prefix,
    LOG_LEVEL: o.logLevel,
    NODE_ENV: 'production',
    HOST: '127.0.0.1',
    PORT: '0',
    // Measured without API keys (the peers have none); per-key limits only apply with auth on.
    LONGRUN_AUTH: 'off',
    METRICS_PORT: '0',
    // The load generator finds out by introspection whether the API has submitJobs.
    GRAPHQL_INTROSPECTION: 'on',
  };
  const api = forkChild({ file: './api.ts', name: 'api', env: { ...env, WORKER_CONCURRENCY: '0' }, nodeArgs: prof });
  const ready = await api.wait<{ url: string; wsUrl: string }>('ready', 60_000);
  process.stderr.write(`[bench] API process pid ${api.pid} at ${ready.url}\n`);
  const sql = postgres(databaseUrl, { max: 1, onnotice: () => {}, idle_timeout: 0 });
  const [me] = await sql<{ pid: number }[]>`select pg_backend_pid() as pid`;
  const pgStatements = await enableStatements(sql);
  const workers = new Set<Child>();

  return {
    url: ready.url,
    wsUrl: ready.wsUrl,
    api,
    sql,
    ownBackendPid: me!.pid,
    pgStatements,
    nc,
    jsm,
    databaseUrl,
    async startWorker(concurrency = o.concurrency) {
      const w = forkChild({
        file: './worker.ts',
        name: 'worker',
        env: { ...env, WORKER_CONCURRENCY: String(concurrency) },
        nodeArgs: prof,
      });
      workers.add(w);
      process.stderr.write(`[bench] worker process pid ${w.pid}\n`);
      void w.proc.once('exit', () => workers.delete(w));
      await w.wait('ready', 60_000);
      return w;
    },
    async stop() {
      for (const w of workers) await w.stop();
      await api.stop();
      await sql.end({ timeout: 5 });
      await deleteStreams(jsm, o.prefix).catch(() => {});
      await nc.close();
      await dropDatabase(o.pgServer, o.database).catch(() => {});
    },
  };
}
