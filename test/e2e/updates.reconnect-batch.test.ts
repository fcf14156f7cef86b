/**
 * After the API's NATS connection comes back, its `jobProgress` subscriptions resynchronise from PostgreSQL
 * in batches: 1,000 subscriptions (on a few raw graphql-transport-ws sockets) over 50 jobs that ran to
 * their end while the API heard nothing each get exactly the updates they missed, in seq order, once; and
 * the reads take a few statements, not one per subscription. Statements are counted by PostgreSQL itself
 * (pg_stat_statements, preloaded on a private server for this file).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { bearer, gql, PROGRESS, SUBMIT } from '../support/graphql.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';
import { rawSocket, type RawSocket } from '../support/raw-ws.js';
import { eventually } from '../support/receivers.js';
import { startPrivatePostgres, type PrivatePostgres } from '../setup/services.js';

const JOBS = 50;
const SOCKETS = 4;
const PER_SOCKET = 250;
const SUBSCRIPTIONS = SOCKETS * PER_SOCKET;

let pg: PrivatePostgres;
let env: TestEnv;
let proxy: TcpProxy;
/** API only, on NATS through the proxy. */
let api: TestApp;
/** Workers (and an API nobody calls), on NATS directly; started while the API is cut off. */
let workers: TestApp | undefined;
beforeAll(async () => {
  pg = await startPrivatePostgres({ settings: ['shared_preload_libraries=pg_stat_statements'] });
  env = await createTestEnv({ adminUrl: pg.url() });
  await env.sql`create extension pg_stat_statements`;
  const nats = new URL(env.natsUrl);
  proxy = await startTcpProxy({ host: nats.hostname, port: Number(nats.port || 4222) });
  api = await startTestApp({
    env,
    handlers: null,
    config: { NATS_URL: `nats://127.0.0.1:${proxy.port}`, MAX_SUBSCRIPTIONS_PER_KEY: String(SUBSCRIPTIONS) },
  });
});
afterAll(async () => {
  await workers?.dispose();
  await api?.dispose();
  await proxy?.close();
  await env?.dispose();
  await pg?.dispose();
});

/** Statements run in this file's database that read a job's history or its row by id (the resync's reads). */
async function historyReads(): Promise<number> {
  const [row] = await env.sql<{ n: number }[]>`
    select coalesce(sum(calls), 0)::int as n from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database())
      and (query like '%job_history%' or query like '%from jobs where id = $1%')`;
  return row!.n;
}

interface Update {
  jobId: string;
  seq: number;
  state: string;
}

/** Opens a socket with `ids.length` subscriptions, `jobProgress(ids[i])` under the id `String(i)`. */
async function subscribeAll(ids: readonly string[]): Promise<RawSocket> {
  const s = rawSocket(api.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(api.key!) } });
  await s.next((m) => m.type === 'connection_ack');
  ids.forEach((id, i) => s.send({ id: String(i), type: 'subscribe', payload: { query: PROGRESS, variables: { id } } }));
  return s;
}

const updatesOf = (s: RawSocket, subscription: string): Update[] =>
  s.messages.filter((m) => m.id === subscription && m.type === 'next').map((m) => m.payload.data.jobProgress);
const count = (s: RawSocket, type: string) => s.messages.filter((m) => m.type === type).length;

it('replays to every jobProgress subscription what it missed, in a few statements', async () => {
  const ids: string[] = [];
  for (let i = 0; i < JOBS; i++) {
    const r = await gql(api.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0, steps: 3 } } });
    ids.push(r.body.data.submitJob.job.id);
  }
  const watched = (socket: number) => Array.from({ length: PER_SOCKET }, (_, i) => ids[(socket * PER_SOCKET + i) % JOBS]!);
  const sockets: RawSocket[] = [];
  for (let n = 0; n < SOCKETS; n++) sockets.push(await subscribeAll(watched(n)));
  await eventually(() => sockets.every((s) => count(s, 'next') === PER_SOCKET), 60_000, 'every subscription’s snapshot (QUEUED)');
  expect(api.app.hub.listenerCount).toBe(SUBSCRIPTIONS);

  const release = proxy.hold();
  workers = await startTestApp({ env, config: { WORKER_CONCURRENCY: '10' } });
  await eventually(
    async () => (await env.sql`select count(*)::int as n from jobs where id = any(${ids}) and state = 'SUCCEEDED'`)[0]!.n === JOBS,
    60_000,
    'the jobs to succeed while the API is cut off',
  );
  await workers.dispose(); // nothing but the API reads the database from here on
  workers = undefined;
  expect(sockets.map((s) => count(s, 'next'))).toEqual(sockets.map(() => PER_SOCKET)); // every end was missed
  const before = await historyReads();
  release();

  await eventually(() => sockets.every((s) => count(s, 'complete') === PER_SOCKET), 60_000, 'every subscription to end with its job');
  const reads = (await historyReads()) - before;

  const history = await env.sql<Update[]>`select job_id::text as "jobId", seq, state::text from job_history order by job_id, seq`;
  const expected = (id: string) => history.filter((h) => h.jobId === id).map((h) => ({ jobId: h.jobId, seq: h.seq, state: h.state }));
  sockets.forEach((s, n) => {
    expect(count(s, 'error')).toBe(0);
    watched(n).forEach((id, i) => {
      const got = updatesOf(s, String(i)).map((u) => ({ jobId: u.jobId, seq: u.seq, state: u.state }));
      expect(got).toEqual(expected(id)); // the snapshot, then each missed change once, in seq order
    });
  });
  expect(expected(ids[0]!).at(-1)).toMatchObject({ state: 'SUCCEEDED' });
  // One read per subscription would be SUBSCRIPTIONS statements; batched, they are a handful.
  expect(reads).toBeLessThanOrEqual(10);
  for (const s of sockets) s.ws.close();
});
