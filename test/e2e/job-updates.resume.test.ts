/**
 * `jobUpdates(filter, since)`: the recorded changes made while no subscriber was connected are replayed in
 * `at` order, then live updates follow, with no duplicate (jobId, seq) and no gap at the switch; the changes
 * at exactly `since` come again; the filter and the owner apply to the replay; a bad `since` is refused with
 * BAD_USER_INPUT, and one with too much history after it with REPLAY_TOO_LARGE; a resume with `lastSeenAt`
 * replays the 5 s before it without counting them. Over a plain graphql-ws client (no SDK dedupe).
 */
import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openJobUpdates, updatePatterns, type UpdatesFilter } from '../../src/progress/job-updates.js';
import { MAX_REPLAY_ROWS, RESUME_OVERLAP_MS } from '../../src/progress/replay-bounds.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { bearer, collect, gql, JOB, SUBMIT, waitForJob, wsClient } from '../support/graphql.js';

interface Update {
  jobId: string;
  type: string;
  seq: number;
  state: string;
  at: string;
}

const UPDATES = /* GraphQL */ `
  subscription Updates($filter: JobUpdatesFilter, $since: DateTime, $lastSeenAt: DateTime) {
    jobUpdates(filter: $filter, since: $since, lastSeenAt: $lastSeenAt) { jobId type seq state at }
  }
`;

let t: TestApp;
let workers: WorkerSwitch;
/** graphql-ws clients made by the tests, disposed after them. */
const clients: Client[] = [];
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  workers = workerSwitch(t);
  await workers.start();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.dispose()));
  await workers?.stop();
  await t?.dispose();
});

const client = (key?: string) => {
  const c = wsClient(t.url.replace(/^http/, 'ws'), key ? { authorization: bearer(key) } : undefined);
  clients.push(c);
  return c;
};

/** Submits over HTTP (the default admin key, or `key`); the job as submitted. */
async function submit(input: Record<string, unknown>, key?: string): Promise<{ id: string; createdAt: string }> {
  const r = await gql(t.url, SUBMIT, { input }, key ? { authorization: bearer(key) } : undefined);
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job;
}

const finished = (j: { state: string }) => ['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(j.state);
/** A job's recorded history (the events of `job(id)`), once it has finished. */
const historyOf = async (id: string): Promise<{ seq: number; state: string; attempt: number; at: string }[]> => (await waitForJob(t.url, id, finished)).events;

/**
 * Subscribes and collects updates until `until` says stop; `attached` runs once the subscription listens
 * (its live updates from then on are not missed), unless the replay satisfied `until` before.
 */
async function updatesUntil(
  c: Client,
  variables: { filter?: UpdatesFilter; since?: string; lastSeenAt?: string },
  until: (seen: Update[]) => boolean,
  attached: () => Promise<void> = async () => {},
): Promise<Update[]> {
  const base = t.app.hub.listenerCount;
  const listeners = base + updatePatterns(t.app.deps.names, variables.filter ?? {}).length;
  const seen: Update[] = [];
  let ended = false;
  const it = c.iterate<{ jobUpdates: Update }>({ query: UPDATES, variables });
  const reading = (async () => {
    for await (const r of it) {
      expect(r.errors).toBeUndefined();
      seen.push(r.data!.jobUpdates);
      if (until(seen)) break;
    }
  })().finally(() => (ended = true));
  for (let i = 0; i < 250 && !ended && t.app.hub.listenerCount !== listeners; i++) await new Promise((r) => setTimeout(r, 20));
  if (!ended) {
    expect(t.app.hub.listenerCount).toBe(listeners);
    await attached();
  }
  await reading;
  // Gone again before the next subscription counts its listeners.
  for (let i = 0; i < 250 && t.app.hub.listenerCount !== base; i++) await new Promise((r) => setTimeout(r, 20));
  expect(t.app.hub.listenerCount).toBe(base);
  return seen;
}

const keyOf = (u: { jobId: string; seq: number }) => `${u.jobId}:${u.seq}`;
const expectNoDuplicate = (seen: Update[]) => expect(seen.map(keyOf)).toEqual([...new Set(seen.map(keyOf))]);
const done = (seen: Update[], id: string | undefined, state = 'SUCCEEDED') => seen.some((u) => u.jobId === id && u.state === state);

describe('jobUpdates(since)', () => {
  it('replays what changed while no subscriber was connected, in `at` order, then goes live, each (jobId, seq) once', async () => {
    const a = await submit({ type: 'demo.sleep', payload: { ms: 200, steps: 2 } });
    const b = await submit({ type: 'demo.sleep', payload: { ms: 100, steps: 1 } });
    const recorded = { a: await historyOf(a.id), b: await historyOf(b.id) };
    const since = a.createdAt; // the `at` of A's first update (QUEUED)

    let c: { id: string } | undefined;
    const seen = await updatesUntil(
      client(),
      { filter: { types: ['demo.sleep'] }, since },
      (s) => done(s, c?.id),
      async () => {
        c = await submit({ type: 'demo.sleep', payload: { ms: 100, steps: 1 } });
      },
    );
    expectNoDuplicate(seen);
    const replayed = seen.filter((u) => u.jobId === a.id || u.jobId === b.id);
    // Every recorded change of A and B, none missing, in `at` order (per job: in seq order).
    expect(replayed.filter((u) => u.jobId === a.id).map((u) => u.seq)).toEqual(recorded.a.map((e) => e.seq));
    expect(replayed.filter((u) => u.jobId === b.id).map((u) => u.seq)).toEqual(recorded.b.map((e) => e.seq));
    const ats = replayed.map((u) => Date.parse(u.at));
    expect(ats).toEqual([...ats].sort((x, y) => x - y));
    expect(ats.every((at) => at >= Date.parse(since))).toBe(true);
    // Then the live job, after the replay, its seqs in order.
    const cSeqs = seen.filter((u) => u.jobId === c!.id).map((u) => u.seq);
    expect(cSeqs).toEqual([...cSeqs].sort((x, y) => x - y));
    expect(seen.findIndex((u) => u.jobId === c!.id)).toBeGreaterThan(seen.findLastIndex((u) => u.jobId === b.id));
  });

  it('has no gap and no duplicate where the replay meets the live updates of a job running meanwhile', async () => {
    const job = await submit({ type: 'demo.sleep', payload: { ms: 1500, steps: 10 } });
    await waitForJob(t.url, job.id, (j) => j.state === 'RUNNING' && j.progress > 0);
    const seen = await updatesUntil(client(), { filter: { ids: [job.id] }, since: job.createdAt }, (s) => done(s, job.id));
    expectNoDuplicate(seen);
    const seqs = seen.map((u) => u.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
    // Every recorded state change is there, and the recorded progress reports but at most one: a report
    // published just before the subscription listened and recorded (throttled) just after its replay read is
    // in neither, and a later one has superseded it (progress is latest-wins; a state change is recorded
    // before it is published, so it cannot fall between).
    const events = await historyOf(job.id);
    const isProgress = (i: number) => i > 0 && events[i]!.state === 'RUNNING' && events[i - 1]!.state === 'RUNNING' && events[i - 1]!.attempt === events[i]!.attempt;
    const missing = events.map((e, i) => ({ seq: e.seq, progress: isProgress(i) })).filter((e) => !seqs.includes(e.seq));
    expect(missing.filter((e) => !e.progress)).toEqual([]);
    expect(missing.length).toBeLessThanOrEqual(1);
  });

  it('sends again the changes at exactly `since`: several share one millisecond (a submitJobs batch)', async () => {
    await workers.stop();
    try {
      const r = await gql(t.url, 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id createdAt } userErrors { message } } }', {
        inputs: [0, 1, 2].map(() => ({ type: 'demo.noop', payload: {} })),
      });
      const jobs: { id: string; createdAt: string }[] = r.body.data.submitJobs.jobs;
      const ids = jobs.map((j) => j.id);
      // The batch shares one created_at; put it on a whole millisecond (as one in a thousand is), where the
      // `at` a client saw equals the recorded one exactly.
      await t.env.sql`update jobs set created_at = date_trunc('milliseconds', created_at) where id = any(${ids}::uuid[])`;
      const since = jobs[0]!.createdAt;
      expect(new Set(jobs.map((j) => j.createdAt))).toEqual(new Set([since]));
      const seen = await updatesUntil(
        client(),
        { filter: { ids }, since },
        (s) => ids.every((id) => done(s, id)),
        () => workers.start(),
      );
      expectNoDuplicate(seen);
      // First the three QUEUED updates at `since` (the one the client saw among them), then the live ones.
      expect(seen.slice(0, 3).map((u) => [u.state, u.seq, u.at])).toEqual(ids.map(() => ['QUEUED', 1, since]));
      expect(new Set(seen.slice(0, 3).map((u) => u.jobId))).toEqual(new Set(ids));
    } finally {
      await workers.start();
    }
  });

  it('applies the filter and the owner to the replay: types, states, ids; another owner never, the admin everyone', async () => {
    const keys = { alice: (await t.createKey('alice')).key, bob: (await t.createKey('bob')).key };
    const sleep = { type: 'demo.sleep', payload: { ms: 100, steps: 1 } };
    const a1 = await submit(sleep, keys.alice);
    const a2 = await submit({ type: 'demo.noop', payload: {} }, keys.alice);
    const a3 = await submit({ type: 'demo.flaky', payload: { permanent: true } }, keys.alice);
    const b1 = await submit(sleep, keys.bob);
    for (const j of [a1, a2, a3, b1]) await historyOf(j.id);
    const since = a1.createdAt;
    const ids = (seen: Update[]) => new Set(seen.map((u) => u.jobId));

    // A live job of the viewer's after the replay marks its end.
    const untilLive = async (key: string | undefined, filter: Record<string, unknown>, input: Record<string, unknown>, state = 'SUCCEEDED') => {
      let live: { id: string } | undefined;
      const seen = await updatesUntil(client(key), { filter, since }, (s) => done(s, live?.id, state), async () => {
        live = await submit(input, key);
      });
      expectNoDuplicate(seen);
      return { seen: seen.filter((u) => u.jobId !== live!.id), live: live! };
    };

    const byType = await untilLive(keys.alice, { types: ['demo.sleep'] }, sleep);
    expect(byType.seen.map((u) => u.seq)).toEqual((await historyOf(a1.id)).map((e) => e.seq));
    expect(ids(byType.seen)).toEqual(new Set([a1.id]));

    const byState = await untilLive(keys.alice, { states: ['FAILED'] }, { type: 'demo.flaky', payload: { permanent: true } }, 'FAILED');
    expect(byState.seen.map((u) => [u.jobId, u.state])).toEqual([[a3.id, 'FAILED']]);

    const byId = await updatesUntil(client(keys.alice), { filter: { ids: [a2.id] }, since }, (s) => done(s, a2.id));
    expect(byId.map((u) => [u.jobId, u.seq])).toEqual((await historyOf(a2.id)).map((e) => [a2.id, e.seq]));

    const alice = await untilLive(keys.alice, {}, sleep);
    expect(ids(alice.seen)).toEqual(new Set([a1.id, a2.id, a3.id, byType.live.id, byState.live.id]));
    const bob = await untilLive(keys.bob, {}, sleep);
    expect(ids(bob.seen)).toEqual(new Set([b1.id]));
    const admin = await untilLive(undefined, { types: ['demo.sleep'] }, sleep);
    expect(ids(admin.seen)).toEqual(new Set([a1.id, b1.id, byType.live.id, alice.live.id, bob.live.id]));
  });

  it('loses nothing when more live updates than the inbox holds (1,000) arrive before the replay is sent', async () => {
    const first = await submit({ type: 'demo.noop', payload: {} });
    await historyOf(first.id);
    const deps = { sql: t.app.deps.sql, hub: t.app.hub, names: t.app.deps.names, knownTypes: new Set(t.app.deps.types.keys()) };
    const filter = { types: ['demo.noop'] };
    // Opened (listening, replay read) but not read from yet: as while a long replay is still being sent.
    const stream = await openJobUpdates(deps, filter, null, new Date(first.createdAt));
    // Every live update the hub hands out meanwhile (to the stream's inbox as well), by (jobId, seq).
    const live = new Set<string>();
    const unlisten = updatePatterns(t.app.deps.names, filter).map((p) => t.app.hub.listen(p, { update: (u) => void live.add(keyOf(u)), resync() {} }));
    try {
      const r = await gql(t.url, 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { message } } }', {
        inputs: Array.from({ length: 700 }, () => ({ type: 'demo.noop', payload: {} })),
      });
      expect(r.body.data.submitJobs.userErrors).toEqual([]);
      const ids: string[] = r.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
      for (let i = 0; i < 500 && live.size < 2 * ids.length; i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      unlisten.forEach((u) => u());
    }
    expect(live.size).toBeGreaterThan(1000); // RUNNING and SUCCEEDED of each
    const want = new Set([...(await historyOf(first.id)).map((e) => keyOf({ jobId: first.id, seq: e.seq })), ...live]);
    const seen: string[] = [];
    // Reads until every update was seen, or nothing comes for 2 s.
    const idle = () => new Promise<null>((r) => setTimeout(() => r(null), 2000));
    while (seen.length < want.size) {
      const n = await Promise.race([stream.next(), idle()]);
      if (!n || n.done) break;
      if (want.has(keyOf(n.value))) seen.push(keyOf(n.value));
    }
    await stream.return(undefined);
    expect(new Set(seen).size).toBe(seen.length);
    expect([...want].filter((k) => !seen.includes(k))).toEqual([]);
  });

  it('refuses a `since` that is not a time, in the future, or before year 1, with BAD_USER_INPUT', async () => {
    for (const since of ['yesterday', '2024-13-45T00:00:00Z', new Date(Date.now() + 3_600_000).toISOString(), '0000-06-01T00:00:00Z']) {
      const r = await collect(client(), UPDATES, { since });
      expect(r.values).toEqual([]);
      expect(r.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
    }
  });

  it(`refuses a replay of more than ${MAX_REPLAY_ROWS} changes with REPLAY_TOO_LARGE and the instant it would have started from, pointing to the jobs query`, async () => {
    const bulk = (await t.createKey('bulk')).key;
    const [{ since } = { since: new Date(0) }] = await t.env.sql<{ since: Date }[]>`select now() - interval '1 second' as since`;
    // More changed jobs than the bound (finished, so no worker picks them up) ...
    await t.env.sql`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, finished_at)
      select gen_random_uuid(), 'bulk', 'demo.noop', 'SUCCEEDED', '{}', 1, 1000, now() from generate_series(1, ${MAX_REPLAY_ROWS + 1})`;
    // ... and one job with more history rows than the bound.
    const [{ id } = { id: '' }] = await t.env.sql<{ id: string }[]>`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, finished_at, seq, seq_reserved)
      values (gen_random_uuid(), 'bulk', 'demo.sleep', 'SUCCEEDED', '{}', 1, 1000, now(), ${MAX_REPLAY_ROWS + 2}, ${MAX_REPLAY_ROWS + 2})
      returning id`;
    await t.env.sql`
      insert into job_events (job_id, seq, kind, state, progress, attempt)
      select ${id}, s, 'progress', 'RUNNING', 0, 1 from generate_series(2, ${MAX_REPLAY_ROWS + 2}) s`;
    const refused = { extensions: { code: 'REPLAY_TOO_LARGE', since: since.toISOString() }, message: expect.stringContaining('`jobs` query') };
    for (const filter of [{}, { types: ['demo.sleep'] }]) {
      const r = await collect(client(bulk), UPDATES, { filter, since: since.toISOString() });
      expect(r.values).toEqual([]);
      expect(r.errors).toMatchObject([refused]);
    }
    // A narrower filter is within the bound: one of those jobs replays.
    const [one] = await t.env.sql<{ id: string }[]>`select id from jobs where owner = 'bulk' and type = 'demo.noop' limit 1`;
    const seen = await updatesUntil(client(bulk), { filter: { ids: [one!.id] }, since: since.toISOString() }, (s) => s.length === 1);
    expect(seen).toMatchObject([{ jobId: one!.id, seq: 1, state: 'QUEUED' }]);
    expect((await gql(t.url, JOB, { id: one!.id }, { authorization: bearer(bulk) })).body.data.job.events).toHaveLength(1);

    // A `states` filter counts the changes it picks, not every job that changed: the one FAILED job among
    // them replays (the bound on jobs looked through is MAX_REPLAY_CANDIDATES).
    const [{ id: failed } = { id: '' }] = await t.env.sql<{ id: string }[]>`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, finished_at, seq, seq_reserved, attempts, error)
      values (gen_random_uuid(), 'bulk', 'demo.noop', 'FAILED', '{}', 1, 1000, now(), 2, 2, 1, 'boom')
      returning id`;
    await t.env.sql`insert into job_events (job_id, seq, kind, state, progress, attempt) values (${failed}, 2, 'state', 'FAILED', 0, 1)`;
    const onlyFailed = await updatesUntil(client(bulk), { filter: { states: ['FAILED'] }, since: since.toISOString() }, (s) => s.length === 1);
    expect(onlyFailed).toMatchObject([{ jobId: failed, seq: 2, state: 'FAILED' }]);
  });

  it(`resumes with lastSeenAt: the ${RESUME_OVERLAP_MS / 1000} s before it replay without counting towards the ${MAX_REPLAY_ROWS}; the changes after it count`, async () => {
    const busy = (await t.createKey('busy')).key;
    // A busy system: more changes than the bound in the seconds before the last update a client saw (each job's
    // QUEUED; finished, so no worker picks them up).
    await t.env.sql`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, created_at, updated_at, finished_at)
      select gen_random_uuid(), 'busy', 'demo.noop', 'SUCCEEDED', '{}', 1, 1000, now() - interval '2 seconds',
             now() - interval '2 seconds', now() - interval '2 seconds'
      from generate_series(1, ${MAX_REPLAY_ROWS + 1})`;
    const [{ now } = { now: new Date(0) }] = await t.env.sql<{ now: Date }[]>`select now()`;
    const lastSeenAt = now.toISOString();
    // One change after it, which the client did not see.
    const missed = await submit({ type: 'demo.noop', payload: {} }, busy);
    await historyOf(missed.id);

    // Asking for the same range with `since` counts the overlap, and is refused.
    const refused = { extensions: { code: 'REPLAY_TOO_LARGE' }, message: expect.stringContaining('`jobs` query') };
    const since = await collect(client(busy), UPDATES, { since: new Date(now.getTime() - RESUME_OVERLAP_MS).toISOString() });
    expect(since.errors).toMatchObject([refused]);

    const seen = await updatesUntil(client(busy), { lastSeenAt }, (s) => done(s, missed.id));
    expectNoDuplicate(seen);
    expect(seen.filter((u) => u.jobId !== missed.id)).toHaveLength(MAX_REPLAY_ROWS + 1);
    expect(seen.filter((u) => u.jobId === missed.id).map((u) => u.seq)).toEqual((await historyOf(missed.id)).map((e) => e.seq));

    // The same changes after lastSeenAt do count.
    const late = await collect(client(busy), UPDATES, { lastSeenAt: new Date(now.getTime() - 3000).toISOString() });
    expect(late.values).toEqual([]);
    // Its replay would have started 5 s before lastSeenAt.
    const from = new Date(now.getTime() - 3000 - RESUME_OVERLAP_MS).toISOString();
    expect(late.errors).toMatchObject([{ extensions: { code: 'REPLAY_TOO_LARGE', since: from }, message: expect.stringContaining('lastSeenAt: more than') }]);
    // Not both.
    const both = await collect(client(busy), UPDATES, { since: lastSeenAt, lastSeenAt });
    expect(both.errors).toMatchObject([{ extensions: { code: 'BAD_USER_INPUT' } }]);
  });
});
