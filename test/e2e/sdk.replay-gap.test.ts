/**
 * The SDK's `jobUpdates` when its resume after an outage is refused because more changed meanwhile than one
 * replay sends (REPLAY_TOO_LARGE): with `onGap` it goes on from the present (with the resume's 5 s overlap),
 * calls `onGap` with the instant it tried to resume from before it yields anything more, and yields the
 * updates made while `onGap` ran and after;
 * without `onGap` it throws the LongrunError REPLAY_TOO_LARGE, as does a first subscription with a `since`
 * past the bound.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, LongrunError, type JobUpdate, type LongrunClient, type ReplayGap } from '../../sdk/index.js';
import { MAX_REPLAY_ROWS } from '../../src/progress/replay-bounds.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';

// No workers: the changes are submits (each job's QUEUED), and the jobs stay QUEUED.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits (up to 5 s) until the API has `n` update listeners. */
async function listeners(n: number): Promise<void> {
  for (let i = 0; i < 250 && t.app.hub.listenerCount !== n; i++) await sleep(20);
  expect(t.app.hub.listenerCount).toBe(n);
}

/** A client of its own owner (the bulk rows of one test do not refuse another's resume), through a proxy. */
async function clientThroughProxy(owner: string): Promise<{ client: LongrunClient; proxy: TcpProxy }> {
  const { key } = await t.createKey(owner);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
  const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: key, reconnectDelayMs: 50 });
  return { client, proxy };
}

/** The connection down while more of `owner`'s jobs change than one replay sends (written with SQL: none is published). */
async function awayPastTheBound(proxy: TcpProxy, owner: string, listening: number): Promise<void> {
  const release = proxy.hold();
  await listeners(listening - 1); // the server has dropped the subscription
  await t.env.sql`
    insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, finished_at)
    select gen_random_uuid(), ${owner}, 'demo.noop', 'SUCCEEDED', '{}', 1, 1000, now() from generate_series(1, ${MAX_REPLAY_ROWS + 1})`;
  release();
}

/** The next update, or a failure after 15 s without one. */
async function next(updates: AsyncIterator<JobUpdate>): Promise<JobUpdate> {
  const r = await Promise.race([updates.next(), sleep(15_000).then(() => Promise.reject(new Error('no update in 15 s')))]);
  expect(r.done).toBe(false);
  return r.value as JobUpdate;
}

it('goes on from the present after a resume refused as too large: onGap gets the resume instant once, before any further update, and the updates made while it ran come after it', async () => {
  const owner = 'gap-watch';
  const { client, proxy } = await clientThroughProxy(owner);
  const abort = new AbortController();
  const gaps: ReplayGap[] = [];
  let inGap = false;
  let duringGap: string | undefined;
  const base = t.app.hub.listenerCount;
  const submit = async () => (await client.submitJob({ type: 'demo.noop', payload: {} })).job!.id;
  try {
    const updates = client.jobUpdates({ types: ['demo.noop'] }, {
      signal: abort.signal,
      onGap: async (gap) => {
        inGap = true;
        gaps.push(gap);
        // The new subscription listens already: a change made now (after a re-read here) reaches the client.
        await listeners(base + 1);
        duringGap = await submit();
        await sleep(500); // its update arrives while onGap still runs
        inGap = false;
      },
    });
    const seen: JobUpdate[] = [];
    /** Reads until an update of the job `id()` names (asked after each update: onGap sets one). */
    const readUntil = async (id: () => string | undefined) => {
      for (;;) {
        const u = await next(updates);
        expect(inGap).toBe(false); // nothing is yielded while onGap runs
        seen.push(u);
        if (u.jobId === id()) return;
      }
    };
    const firstRead = next(updates).then((u) => seen.push(u));
    await listeners(base + 1);
    const before = await submit();
    await firstRead;
    expect(seen.map((u) => u.jobId)).toEqual([before]);

    await awayPastTheBound(proxy, owner, base + 1);
    await readUntil(() => duringGap);
    expect(gaps).toEqual([{ since: seen[0]!.at }]);
    const after = await submit();
    await readUntil(() => after);

    expect(proxy.accepted).toBeGreaterThanOrEqual(2);
    // The submits' updates in order, once each. Besides them only the away-time changes of the last 5 s
    // (the overlap of the subscription from the present: the bulk rows, just written), which the re-read
    // in onGap holds already; nothing twice.
    const submitted = [before, duringGap!, after];
    expect(seen.filter((u) => submitted.includes(u.jobId)).map((u) => [u.jobId, u.state])).toEqual(submitted.map((id) => [id, 'QUEUED']));
    const bulk = await t.env.sql<{ id: string }[]>`select id from jobs where owner = ${owner} and not (id = any(${submitted}::uuid[]))`;
    const bulkIds = new Set(bulk.map((r) => r.id));
    expect(seen.every((u) => submitted.includes(u.jobId) || bulkIds.has(u.jobId))).toBe(true);
    expect(new Set(seen.map((u) => `${u.jobId}:${u.seq}`)).size).toBe(seen.length);
    expect(gaps).toHaveLength(1);
  } finally {
    abort.abort();
    await client.close();
    await proxy.close();
  }
});

it('throws a LongrunError REPLAY_TOO_LARGE without onGap, and for a first subscription whose since is past the bound even with it', async () => {
  const owner = 'gap-throw';
  const { client, proxy } = await clientThroughProxy(owner);
  const base = t.app.hub.listenerCount;
  try {
    const [{ since } = { since: new Date(0) }] = await t.env.sql<{ since: Date }[]>`select now() as since`;
    const updates = client.jobUpdates({ types: ['demo.noop'] });
    const firstRead = next(updates);
    await listeners(base + 1);
    await client.submitJob({ type: 'demo.noop', payload: {} });
    await firstRead;

    await awayPastTheBound(proxy, owner, base + 1);
    const refused = await updates.next().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LongrunError);
    expect(refused).toMatchObject({ code: 'REPLAY_TOO_LARGE', message: expect.stringContaining('lastSeenAt: more than') });

    // The caller's own `since`, past the bound: not a gap to go on from.
    const gaps: ReplayGap[] = [];
    const fromSince = client.jobUpdates({ types: ['demo.noop'] }, { since: since.toISOString(), onGap: (gap) => void gaps.push(gap) });
    await expect(fromSince.next()).rejects.toMatchObject({ code: 'REPLAY_TOO_LARGE', message: expect.stringContaining('since: more than') });
    expect(gaps).toEqual([]);
  } finally {
    await client.close();
    await proxy.close();
  }
});

it('ends the subscription from the present when the signal aborts while onGap runs, though no update ever comes to it', async () => {
  const owner = 'gap-abort';
  const { client, proxy } = await clientThroughProxy(owner);
  const abort = new AbortController();
  const base = t.app.hub.listenerCount;
  let entered!: () => void;
  const inGap = new Promise<void>((r) => (entered = r));
  let leave!: () => void;
  const left = new Promise<void>((r) => (leave = r));
  try {
    const updates = client.jobUpdates({ types: ['demo.noop'] }, { signal: abort.signal, onGap: async () => (entered(), left) });
    const firstRead = next(updates);
    await listeners(base + 1);
    await client.submitJob({ type: 'demo.noop', payload: {} });
    await firstRead;
    await sleep(7000); // the away-time changes below fall after that update and before the new subscription's 5 s overlap
    const release = proxy.hold();
    await listeners(base);
    await t.env.sql`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, created_at, updated_at, finished_at)
      select gen_random_uuid(), ${owner}, 'demo.noop', 'SUCCEEDED', '{}', 1, 1000, now() - interval '6 s', now() - interval '6 s', now() - interval '6 s'
      from generate_series(1, ${MAX_REPLAY_ROWS + 1})`;
    release();
    const rest = updates.next();
    await inGap;
    await listeners(base + 1); // the subscription from the present listens; nothing comes to it
    abort.abort();
    leave();
    expect(await rest).toEqual({ done: true, value: undefined });
    await listeners(base); // it was ended, not left open until an update of the filter arrives
  } finally {
    abort.abort();
    await client.close();
    await proxy.close();
  }
});
