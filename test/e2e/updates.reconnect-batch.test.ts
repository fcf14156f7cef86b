/**
 * After the API's NATS connection comes back, its subscriptions resynchronise from PostgreSQL without one
 * read per subscription. 1,000 `jobProgress` subscriptions (on a few raw graphql-transport-ws sockets) over
 * 50 jobs that ran to their end while the API heard nothing, and 200 `jobUpdates` subscriptions with one
 * filter, each get exactly the updates they missed, in seq order, once; the reads take a few statements.
 * Statements are counted by PostgreSQL itself (pg_stat_statements, preloaded on a private server for this
 * file).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MISSED_UPDATES_MARGIN_MS } from '../../src/progress/hub.js';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { bearer, gql, PROGRESS, SUBMIT } from '../support/graphql.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
import { rawSocket, type RawSocket } from '../support/raw-ws.js';
import { eventually } from '../support/receivers.js';
import { startPrivatePostgres, type PrivatePostgres } from '../setup/services.js';

const JOBS = 50;
const SOCKETS = 4;
const PER_SOCKET = 250;
const SUBSCRIPTIONS = SOCKETS * PER_SOCKET;

const UPDATES = /* GraphQL */ `
  subscription Updates($filter: JobUpdatesFilter) {
    jobUpdates(filter: $filter) { jobId seq state }
  }
`;

let pg: PrivatePostgres;
let env: TestEnv;
let proxy: TcpProxy;
/** API only, on NATS through the proxy. */
let api: TestApp;
/** Workers (and an API nobody calls), on NATS directly: while the API is cut off (and for a job it hears). */
let workers: TestApp | undefined;
beforeAll(async () => {
  pg = await startPrivatePostgres({ settings: ['shared_preload_libraries=pg_stat_statements'] });
  env = await createTestEnv({ adminUrl: pg.url() });
  await env.sql`create extension pg_stat_statements`;
  const nats = await startTcpProxyFor(env.natsUrl);
  proxy = nats.proxy;
  api = await startTestApp({
    env,
    handlers: null,
    config: { NATS_URL: nats.url, MAX_SUBSCRIPTIONS_PER_KEY: String(SUBSCRIPTIONS) },
  });
});
afterAll(async () => {
  await workers?.dispose();
  await api?.dispose();
  await proxy?.close();
  await env?.dispose();
  await pg?.dispose();
});

/** Calls of the statements run in this file's database whose text matches one of `patterns` (LIKE). */
async function statements(...patterns: string[]): Promise<number> {
  const [row] = await env.sql<{ n: number }[]>`
    select coalesce(sum(calls), 0)::int as n from pg_stat_statements
    where dbid = (select oid from pg_database where datname = current_database()) and query like any(${patterns})`;
  return row!.n;
}

/** The statements of a `jobProgress` resync: a job's history, or its row by id. */
const progressReads = () => statements('%job_history%', '%from jobs where id = $1%');
/** The statements of a `jobUpdates` resync: the changed jobs, their history. */
const updatesReads = () => statements('%finished_at >= $1%', '%job_history%');

async function submit(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await gql(api.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0, steps: 3 } } });
    ids.push(r.body.data.submitJob.job.id);
  }
  return ids;
}

/**
 * Cuts the API off NATS, runs the jobs to their end on workers of their own (stopped after, so that only the
 * API reads the database from then on), then counts `reads()` while the API reconnects and its subscribers
 * catch up (`caughtUp`): answers how many statements that took.
 */
async function whileCutOff(ids: readonly string[], reads: () => Promise<number>, caughtUp: () => boolean, missed: () => void): Promise<number> {
  const release = proxy.hold();
  workers = await startTestApp({ env, config: { WORKER_CONCURRENCY: '10' } });
  await eventually(
    async () => (await env.sql`select count(*)::int as n from jobs where id = any(${ids}) and state = 'SUCCEEDED'`)[0]!.n === ids.length,
    60_000,
    'the jobs to succeed while the API is cut off',
  );
  await workers.dispose();
  workers = undefined;
  missed();
  const before = await reads();
  release();
  await eventually(caughtUp, 60_000, 'every subscriber to catch up');
  return (await reads()) - before;
}

/** Each job's whole history (seq, state), as recorded. */
async function histories(): Promise<(id: string) => Update[]> {
  const rows = await env.sql<Update[]>`select job_id::text as "jobId", seq, state::text from job_history order by job_id, seq`;
  return (id) => rows.filter((h) => h.jobId === id).map((h) => ({ jobId: h.jobId, seq: h.seq, state: h.state }));
}

async function connect(): Promise<RawSocket> {
  const s = rawSocket(api.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(api.key!) } });
  await s.next((m) => m.type === 'connection_ack');
  return s;
}

interface Update {
  jobId: string;
  seq: number;
  state: string;
}

/** Opens a socket with `ids.length` subscriptions, `jobProgress(ids[i])` under the id `String(i)`. */
async function subscribeAll(ids: readonly string[]): Promise<RawSocket> {
  const s = await connect();
  ids.forEach((id, i) => s.send({ id: String(i), type: 'subscribe', payload: { query: PROGRESS, variables: { id } } }));
  return s;
}

/** The updates each subscription of the socket received, by subscription id. */
function updatesBySubscription(s: RawSocket): Map<string, Update[]> {
  const by = new Map<string, Update[]>();
  for (const m of s.messages) {
    if (m.type !== 'next') continue;
    const u = Object.values(m.payload.data)[0] as Update;
    let list = by.get(m.id);
    if (!list) by.set(m.id, (list = []));
    list.push({ jobId: u.jobId, seq: u.seq, state: u.state });
  }
  return by;
}
const count = (s: RawSocket, type: string) => s.messages.filter((m) => m.type === type).length;

it('replays to every jobProgress subscription what it missed, in a few statements', async () => {
  const ids = await submit(JOBS);
  const watched = (socket: number) => Array.from({ length: PER_SOCKET }, (_, i) => ids[(socket * PER_SOCKET + i) % JOBS]!);
  const sockets: RawSocket[] = [];
  for (let n = 0; n < SOCKETS; n++) sockets.push(await subscribeAll(watched(n)));
  await eventually(() => sockets.every((s) => count(s, 'next') === PER_SOCKET), 60_000, 'every subscription’s snapshot (QUEUED)');
  expect(api.app.hub.listenerCount).toBe(SUBSCRIPTIONS);

  const reads = await whileCutOff(
    ids,
    progressReads,
    () => sockets.every((s) => count(s, 'complete') === PER_SOCKET),
    () => expect(sockets.map((s) => count(s, 'next'))).toEqual(sockets.map(() => PER_SOCKET)), // every end was missed
  );
  const history = await histories();
  sockets.forEach((s, n) => {
    expect(count(s, 'error')).toBe(0);
    const got = updatesBySubscription(s);
    // The snapshot, then each missed change once, in seq order.
    watched(n).forEach((id, i) => expect(got.get(String(i))).toEqual(history(id)));
  });
  expect(history(ids[0]!).at(-1)).toMatchObject({ state: 'SUCCEEDED' });
  // One read per subscription would be SUBSCRIPTIONS statements; batched, they are a handful.
  expect(reads).toBeLessThanOrEqual(10);
  for (const s of sockets) s.ws.close();
});

it('replays to jobUpdates subscriptions with one filter what they missed, in one shared read', async () => {
  const N = 200;
  const s = await connect();
  for (let i = 0; i < N; i++) s.send({ id: String(i), type: 'subscribe', payload: { query: UPDATES, variables: { filter: { types: ['demo.sleep'] } } } });
  await eventually(() => api.app.hub.listenerCount === N, 60_000, 'every subscription to listen');
  /** How many subscriptions have seen every one of `jobs` in `state`. */
  const seenBy = (jobs: readonly string[], state: string) =>
    [...updatesBySubscription(s).values()].filter((got) => jobs.every((id) => got.some((u) => u.jobId === id && u.state === state))).length;

  // Long-lived subscriptions reread from the same time (the hub's: the margin before the last update it
  // heard), not from when each was opened: let the API hear an update more than the margin after that.
  const opened = Date.now();
  await eventually(() => Date.now() > opened + MISSED_UPDATES_MARGIN_MS, MISSED_UPDATES_MARGIN_MS + 10_000, 'the margin to pass');
  workers = await startTestApp({ env, config: { WORKER_CONCURRENCY: '10' } });
  const heard = await submit(1);
  await eventually(() => seenBy(heard, 'SUCCEEDED') === N, 60_000, 'a job’s end, heard live');
  await workers.dispose();
  workers = undefined;

  const ids = await submit(20);
  const reads = await whileCutOff(
    ids,
    updatesReads,
    () => seenBy(ids, 'SUCCEEDED') === N,
    // Nothing heard of them past their submit's QUEUED (published live, and maybe heard before the cut).
    () => expect(updatesBySubscription(s).get('0')!.filter((u) => ids.includes(u.jobId) && u.state !== 'QUEUED')).toEqual([]),
  );
  const history = await histories();
  expect(count(s, 'error')).toBe(0);
  const bySubscription = updatesBySubscription(s);
  for (let i = 0; i < N; i++) {
    const got = bySubscription.get(String(i))!;
    // Each job's whole history (from QUEUED: it was submitted after the time reread from) once, in seq order.
    for (const id of ids) expect(got.filter((u) => u.jobId === id)).toEqual(history(id));
  }
  // One reread per subscription would be 2 × N statements; shared, it is one reread.
  expect(reads).toBeLessThanOrEqual(10);
  s.ws.close();
});
