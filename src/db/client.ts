/**
 * The PostgreSQL client (postgres.js). Tables are declared with drizzle (`schema.ts`, migrations in
 * `drizzle/`); queries are SQL in this folder. (A drizzle instance is not wrapped around this client: it
 * replaces postgres.js' date parsers, and the raw queries here expect Date objects.)
 */
import postgres from 'postgres';

export type Sql = postgres.Sql;

export interface Db {
  sql: Sql;
  close(): Promise<void>;
}

/** Connections in a pool of the API's or a worker's (and the default for any pool). */
export const POOL_SIZE = 10;

/**
 * Connection options shared by every client we open. `silenceMs` (the app's pools: DATABASE_SILENCE_TIMEOUT_MS;
 * not migrations, whose DDL may run silent for long): a connection with statements out and nothing heard for
 * that long is closed (`silence_timeout`, a mend of the driver: scripts/patch-dependencies.mjs), and a session
 * idle inside a transaction that long is ended by the server.
 */
export function pgOptions(max = POOL_SIZE, silenceMs = 0): postgres.Options<Record<string, never>> & { silence_timeout?: number } {
  return {
    max,
    onnotice: () => {},
    connect_timeout: 5,
    idle_timeout: 60,
    backoff: reconnectDelaySeconds,
    connection: { application_name: 'longrun', ...(silenceMs ? { idle_in_transaction_session_timeout: silenceMs } : {}) },
    ...(silenceMs ? { silence_timeout: silenceMs / 1000 } : {}),
  };
}

/** The longest a connection waits before it reconnects after a failure, in seconds (jitter takes up to half off). */
export const RECONNECT_MAX_S = 1;

/**
 * How long a pool's connection waits before it reconnects, given the pool's failures since it last connected
 * (postgres.js counts them across the whole pool, and only a connection that succeeds resets the count). The
 * driver's own delay grows as 3^failures / 100 s up to 20 s, so a reset of a pool's ten connections at once, or
 * a few seconds with PostgreSQL down, left connections waiting up to 20 s after the server was back, each with
 * statements queued on it (`bench/pg-reconnect.ts`: 16–19 s). The same growth, capped at a second.
 */
export function reconnectDelaySeconds(failures: number): number {
  return (0.5 + Math.random() / 2) * Math.min(3 ** failures / 100, RECONNECT_MAX_S);
}

/**
 * postgres.js prepares tagged-template queries but not `unsafe()` ones. Ours are fixed, parameterised texts
 * (dynamic only in which fixed clauses they join), so prepare them too: each is parsed and planned once per
 * connection instead of on every call (the planning of the CTE statements cost milliseconds each time).
 * Applied to the pool and to each transaction (`sql.begin` hands out a fresh handle).
 */
export function preparing<T extends Pick<Sql, 'unsafe'>>(sql: T): T {
  const unsafe = sql.unsafe.bind(sql);
  (sql as { unsafe: Sql['unsafe'] }).unsafe = ((query: string, args?: never[], options?: object) =>
    unsafe(query, args, { prepare: true, ...options })) as Sql['unsafe'];
  return sql;
}

/** Now, by PostgreSQL's clock (the one `finished_at` is written by), to the millisecond a DateTime carries. */
export async function databaseNow(tx: Sql): Promise<Date> {
  const [row] = await tx.unsafe<{ now: Date }[]>(`select date_trunc('milliseconds', clock_timestamp()) as now`);
  return row!.now;
}

/** Opens a pool (it reconnects per query, so a restarted PostgreSQL is picked up); `close()` waits up to 5 s. */
export function createDb(url: string, max = POOL_SIZE, silenceMs = 0): Db {
  const sql = preparing(postgres(url, pgOptions(max, silenceMs)));
  return { sql, close: () => sql.end({ timeout: 5 }) };
}
