/**
 * After the API's NATS connection comes back, its subscriptions resynchronise from PostgreSQL without one
 * read per subscription. 1,000 `jobProgress` subscriptions (on a few raw graphql-transport-ws sockets) over
 * 50 jobs that ran to their end while the API heard nothing, 200 `jobUpdates` subscriptions with one
 * filter, and 500 with filters of their own (each on its own 2 jobs), each get exactly the updates they
 * missed, in seq order, once; the reads take a few statements. A subscription past its bound in such a shared
 * read is refused alone.
 * Statements are counted by PostgreSQL itself (pg_stat_statements, preloaded on a private server for this
 * file).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MISSED_UPDATES_MARGIN_MS } from '../../src/progress/hub.js';
import { MAX_OVERLAP_ROWS, MAX_REPLAY_ROWS } from '../../src/progress/replay-bounds.js';
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

const UPDATES_SINCE = /* GraphQL */ `
  subscription UpdatesSince($filter: JobUpdatesFilter, $since: DateTime) {
    jobUpdates(filter: $filter, since: $since) { jobId seq state }
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

/** Submits `n` jobs in batches (`submitJobs`); answers their ids in order. */
async function submitMany(n: number): Promise<string[]> {
  const ids: string[] = [];
  const query = 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } } }';
  while (ids.length < n) {
    const inputs = Array.from({ length: Math.min(200, n - ids.length) }, () => ({ type: 'demo.sleep', payload: { ms: 0, steps: 3 } }));
    ids.push(...(await gql(api.url, query, { inputs })).body.data.submitJobs.jobs.map((j: { id: string }) => j.id));
  }
  return ids;
}

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
async function whileCutOff(
  ids: readonly string[],
  reads: () => Promise<number>,
  caughtUp: () => boolean,
  missed: () => void | Promise<void>,
): Promise<number> {
  const release = proxy.hold();
  workers = await startTestApp({ env, config: { WORKER_CONCURRENCY: '10' } });
  await eventually(
    async () => (await env.sql`select count(*)::int as n from jobs where id = any(${ids}) and state = 'SUCCEEDED'`)[0]!.n === ids.length,
    60_000,
    'the jobs to succeed while the API is cut off',
  );
  await workers.dispose();
  workers = undefined;
  await missed();
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
    if (m.type !== 'next' || !m.payload.data) continue;
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

it('replays to 500 jobUpdates subscriptions with filters of their own (2 jobs each) what each missed, in a few statements', async () => {
  const N = 500;
  const ids = await submitMany(2 * N);
  const mine = (i: number) => [ids[2 * i]!, ids[2 * i + 1]!];
  // Filters differ in more than ids: some name the type, some only two states (applied to the shared read).
  const statesOf = (i: number) => (i % 3 === 2 ? ['RUNNING', 'SUCCEEDED'] : null);
  const filterOf = (i: number) => ({ ids: mine(i), ...(i % 5 === 0 && { types: ['demo.sleep'] }), ...(statesOf(i) && { states: statesOf(i) }) });
  const s = await connect();
  for (let i = 0; i < N; i++) s.send({ id: String(i), type: 'subscribe', payload: { query: UPDATES, variables: { filter: filterOf(i) } } });
  // A dashboard of every job, to hear an update after the margin (below); closed before the cut.
  s.send({ id: 'heard', type: 'subscribe', payload: { query: UPDATES, variables: { filter: { types: ['demo.sleep'] } } } });
  await eventually(() => api.app.hub.listenerCount === 2 * N + 1, 60_000, 'every subscription to listen');

  // As above: the subscriptions reread from the hub's time, not each from when it was opened.
  const opened = Date.now();
  await eventually(() => Date.now() > opened + MISSED_UPDATES_MARGIN_MS, MISSED_UPDATES_MARGIN_MS + 10_000, 'the margin to pass');
  const [heard] = await submit(1);
  await eventually(() => updatesBySubscription(s).get('heard')?.some((u) => u.jobId === heard) ?? false, 60_000, 'a submit, heard live');
  s.send({ id: 'heard', type: 'complete' });
  await eventually(() => api.app.hub.listenerCount === 2 * N, 60_000, 'the dashboard to stop listening');

  const done = (i: number, got: Map<string, Update[]>) => mine(i).every((id) => got.get(String(i))?.some((u) => u.jobId === id && u.state === 'SUCCEEDED'));
  const reads = await whileCutOff(
    ids,
    updatesReads,
    () => {
      const got = updatesBySubscription(s);
      return Array.from({ length: N }, (_, i) => i).every((i) => done(i, got));
    },
    () => expect((updatesBySubscription(s).get('0') ?? []).filter((u) => u.state !== 'QUEUED')).toEqual([]),
  );
  const history = await histories();
  expect(s.messages.filter((m) => m.type === 'error' || m.payload?.errors)).toEqual([]);
  const bySubscription = updatesBySubscription(s);
  for (let i = 0; i < N; i++) {
    // Its jobs' whole history (into its states), each change once, in seq order; nothing of another's jobs.
    const states = statesOf(i);
    const expected = mine(i).flatMap((id) => history(id).filter((u) => !states || states.includes(u.state)));
    const got = bySubscription.get(String(i)) ?? [];
    expect(got.filter((u) => !mine(i).includes(u.jobId))).toEqual([]);
    // Its QUEUED was published before it listened, and recorded before the time reread from.
    for (const id of mine(i)) expect(got.filter((u) => u.jobId === id && u.state !== 'QUEUED')).toEqual(expected.filter((u) => u.jobId === id && u.state !== 'QUEUED'));
  }
  // One reread per subscription would be 2 × N statements; grouped, they are a few.
  console.log(`500 filters on 2 jobs each: ${reads} statements to reread`);
  expect(reads).toBeLessThanOrEqual(10);
  s.ws.close();
}, 120_000);

/**
 * Subscriptions with `since`, each on its own job, one of which records `rows` changes while the API is cut off:
 * answers the statements their rereads took, once the big one is refused and the others have what they missed.
 */
async function oneBig(SMALL: number, rows: number): Promise<number> {
  const ids = await submitMany(SMALL + 1);
  const [big, ...small] = ids;
  const since = new Date().toISOString();
  const s = await connect();
  const listening = api.app.hub.listenerCount;
  ids.forEach((id, i) => s.send({ id: String(i), type: 'subscribe', payload: { query: UPDATES_SINCE, variables: { filter: { ids: [id] }, since } } }));
  await eventually(() => api.app.hub.listenerCount === listening + ids.length, 60_000, 'every subscription to listen');

  const refusals = () => s.messages.filter((m) => m.type === 'error' || m.payload?.errors);
  const reads = await whileCutOff(
    ids,
    updatesReads,
    () => refusals().length === 1 && small.every((id, i) => updatesBySubscription(s).get(String(i + 1))?.some((u) => u.jobId === id && u.state === 'SUCCEEDED')),
    // While the API hears nothing, the big job records more changes than one replay may send.
    async () => {
      await env.sql`
        insert into job_events (job_id, seq, kind, state, progress, attempt)
        select ${big!}, 1000 + s, 'progress', 'RUNNING', 0, 1 from generate_series(1, ${rows}) s`;
    },
  );
  expect(refusals()).toMatchObject([{ id: '0', payload: expect.anything() }]);
  expect(JSON.stringify(refusals()[0])).toContain(`since: more than ${MAX_REPLAY_ROWS} recorded changes`);
  expect(JSON.stringify(refusals()[0])).toContain('"code":"REPLAY_TOO_LARGE"');
  const recorded = await env.sql<Update[]>`
    select job_id::text as "jobId", seq, state::text from job_history where at >= ${since} order by job_id, seq`;
  const bySubscription = updatesBySubscription(s);
  // What was recorded from `since` on (a QUEUED heard live just after subscribing is before it).
  small.forEach((id, i) => expect(bySubscription.get(String(i + 1))!.filter((u) => u.state !== 'QUEUED')).toEqual(recorded.filter((u) => u.jobId === id)));
  s.ws.close();
  return reads;
}

it('refuses a subscription past its bound alone in a shared reread; the others get what they missed', async () => {
  const reads = await oneBig(20, MAX_REPLAY_ROWS + 1);
  // One reread per subscription would be 2 × 21 statements; grouped, they are one shared read.
  console.log(`21 filters, one past its bound: ${reads} statements to reread`);
  expect(reads).toBeLessThanOrEqual(2);
});

it('splits a shared reread that one long history fills: the others still share reads, the long one reads alone', async () => {
  // More than a group reads (MAX_REPLAY_ROWS + MAX_OVERLAP_ROWS): the group halves until the long one is alone.
  const reads = await oneBig(40, MAX_REPLAY_ROWS + MAX_OVERLAP_ROWS + 1);
  // One reread per subscription would be 2 × 41; halving 41 down to 1 reads 7 groups twice (full, then halved),
  // 6 halves once, and the long one alone: 28.
  console.log(`41 filters, one past what a group reads: ${reads} statements to reread`);
  expect(reads).toBeLessThanOrEqual(30);
}, 120_000);
