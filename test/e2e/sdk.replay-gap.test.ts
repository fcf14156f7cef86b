/**
 * The SDK's `jobUpdates` when a replay is refused because more changed than one replay sends
 * (REPLAY_TOO_LARGE): with `onGap` it goes on from the present (with the resume's 5 s overlap), calls `onGap`
 * with the instant the changes may be missing from before it yields anything more, and yields the updates
 * made while `onGap` ran and after. It does so for a resume after an outage, and for the caller's own `since`
 * (refused at the start, or mid-stream when the server's reread after its NATS connection was back is past the bound),
 * and for the subscription from the present refused in its turn (onGap again, after a backoff; after
 * 1 + `reconnectAttempts` gaps in a row the refusal is thrown). Without `onGap` it throws the LongrunError
 * REPLAY_TOO_LARGE.
 */
import { expect, it } from 'vitest';
import { createClient, LongrunError, type JobUpdate, type LongrunClient, type ReplayGap } from '../../sdk/index.js';
import { MAX_REPLAY_ROWS } from '../../src/progress/replay-bounds.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';
import { dbNow, expectOnceEach, nextUpdate as next, pastTheBound, readPast, sleep, useApiOnProxiedNats, waitForListeners } from '../support/sdk-updates.js';

// No workers: the changes are submits (each job's QUEUED), and the jobs stay QUEUED. The API is on NATS
// through a proxy, to cut it off.
const s = useApiOnProxiedNats();
const listeners = (n: number) => waitForListeners(s.t, n);

/**
 * A client of its own owner (the bulk rows of one test do not refuse another's resume), through a proxy.
 * @default reconnectAttempts the SDK's (20)
 */
async function clientThroughProxy(owner: string, reconnectAttempts?: number): Promise<{ client: LongrunClient; proxy: TcpProxy }> {
  const { key } = await s.t.createKey(owner);
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(s.t.url).port) });
  const client = createClient({ url: s.t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: key, reconnectDelayMs: 50, reconnectAttempts });
  return { client, proxy };
}

/** The connection down while more of `owner`'s jobs change than one replay sends. */
async function awayPastTheBound(proxy: TcpProxy, owner: string, listening: number): Promise<void> {
  const release = proxy.hold();
  await listeners(listening - 1); // the server has dropped the subscription
  await pastTheBound(s.t, owner);
  release();
}

it('goes on from the present after a resume refused as too large: onGap gets the resume instant once, before any further update, and the updates made while it ran come after it', async () => {
  const owner = 'gap-watch';
  const { client, proxy } = await clientThroughProxy(owner);
  const abort = new AbortController();
  const gaps: ReplayGap[] = [];
  let inGap = false;
  let duringGap: string | undefined;
  const base = s.t.app.hub.listenerCount;
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
    const bulk = await s.t.env.sql<{ id: string }[]>`select id from jobs where owner = ${owner} and not (id = any(${submitted}::uuid[]))`;
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

it('throws a LongrunError REPLAY_TOO_LARGE without onGap, for a resume and for a first subscription whose since is past the bound', async () => {
  const owner = 'gap-throw';
  const { client, proxy } = await clientThroughProxy(owner);
  const base = s.t.app.hub.listenerCount;
  try {
    const [{ since } = { since: new Date(0) }] = await s.t.env.sql<{ since: Date }[]>`select now() as since`;
    const updates = client.jobUpdates({ types: ['demo.noop'] });
    const firstRead = next(updates);
    await listeners(base + 1);
    await client.submitJob({ type: 'demo.noop', payload: {} });
    await firstRead;

    await awayPastTheBound(proxy, owner, base + 1);
    const refused = await updates.next().catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(LongrunError);
    expect(refused).toMatchObject({ code: 'REPLAY_TOO_LARGE', message: expect.stringContaining('lastSeenAt: more than') });

    const fromSince = client.jobUpdates({ types: ['demo.noop'] }, { since: since.toISOString() });
    await expect(fromSince.next()).rejects.toMatchObject({ code: 'REPLAY_TOO_LARGE', message: expect.stringContaining('since: more than') });
  } finally {
    await client.close();
    await proxy.close();
  }
});

/** A watch of `owner`'s jobs through a proxy (`since` passed on), whose onGap notes each gap and when it came. */
async function gapWatch(owner: string, since?: string, reconnectAttempts?: number) {
  const { client, proxy } = await clientThroughProxy(owner, reconnectAttempts);
  const abort = new AbortController();
  const gaps: ReplayGap[] = [];
  const gapTimes: number[] = [];
  const onGap = (gap: ReplayGap) => void (gaps.push(gap), gapTimes.push(Date.now()));
  const updates = client.jobUpdates({ types: ['demo.noop'] }, { ...(since ? { since } : {}), signal: abort.signal, onGap });
  return {
    proxy,
    updates,
    gaps,
    gapTimes,
    submit: async () => (await client.submitJob({ type: 'demo.noop', payload: {} })).job!.id,
    async dispose() {
      abort.abort();
      await client.close();
      await proxy.close();
    },
  };
}

it("goes on from the present when the caller's own since is refused at the start: onGap gets that since before any update", async () => {
  const owner = 'gap-since';
  const since = (await dbNow(s.t)).toISOString();
  await pastTheBound(s.t, owner);
  const w = await gapWatch(owner, since);
  try {
    const seen = await readPast(w.updates, () => w.gaps.length > 0, w.submit);
    expect(w.gaps).toEqual([{ since }]);
    // Besides the submit's update, only the bulk rows the 5 s overlap of the subscription from the present sent.
    expect(seen.at(-1)).toMatchObject({ state: 'QUEUED' });
    expectOnceEach(seen);
  } finally {
    await w.dispose();
  }
});

it("goes on from the present when the server's reread of a since subscription is refused mid-stream (its NATS connection back after more changes than the bound)", async () => {
  const owner = 'gap-midstream';
  // From 10 s back: the reread after NATS is back starts later (5 s before the API last heard from NATS).
  const since = new Date((await dbNow(s.t)).getTime() - 10_000).toISOString();
  const w = await gapWatch(owner, since);
  try {
    const firstRead = next(w.updates);
    const before = await w.submit(); // after since: replayed, or sent live
    expect((await firstRead).jobId).toBe(before);

    const cutAt = await dbNow(s.t);
    const release = s.nats.hold();
    await pastTheBound(s.t, owner);
    release();
    const seen = await readPast(w.updates, () => w.gaps.length > 0, w.submit);
    expect(w.gaps).toHaveLength(1);
    // From where the refused reread started: after the caller's since, before the cut.
    expect(Date.parse(w.gaps[0]!.since)).toBeGreaterThan(Date.parse(since));
    expect(Date.parse(w.gaps[0]!.since)).toBeLessThan(cutAt.getTime());
    expect(seen.every((u) => u.jobId !== before)).toBe(true); // not yielded twice
    expectOnceEach(seen);
  } finally {
    await w.dispose();
  }
});

/**
 * A watch whose resume is refused, as is every subscription from the present for `aheadMs` (more changes
 * recorded from then on than one replay sends).
 */
async function refusedFromThePresent(owner: string, aheadMs: number, reconnectAttempts?: number) {
  const w = await gapWatch(owner, (await dbNow(s.t)).toISOString(), reconnectAttempts);
  const firstRead = next(w.updates);
  await w.submit(); // after since: replayed, or sent live
  await firstRead;
  await pastTheBound(s.t, owner, aheadMs);
  w.proxy.cut(); // the resume, at once, counts them
  return w;
}

it('calls onGap again, after a backoff, while the subscription from the present is refused too, and goes on once it is not', async () => {
  const w = await refusedFromThePresent('gap-again', 3000);
  try {
    const seen = await readPast(w.updates, (read) => read.length > 0, w.submit); // an update: it went on
    expect(w.gaps.length).toBeGreaterThanOrEqual(2);
    // Each from the instant the subscription before it started; waited for as reconnects are (from 50 ms,
    // doubling; jittered: at least half of that).
    w.gaps.slice(1).forEach((g, i) => {
      expect(Date.parse(g.since)).toBeGreaterThan(Date.parse(w.gaps[i]!.since));
      expect(w.gapTimes[i + 1]! - w.gapTimes[i]!).toBeGreaterThanOrEqual(Math.min(5000, 50 * 2 ** i) / 2 - 5);
    });
    expect(seen.at(-1)).toMatchObject({ state: 'QUEUED' });
    expectOnceEach(seen);
  } finally {
    await w.dispose();
  }
});

it('throws the refusal when the subscription from the present is refused after 1 + reconnectAttempts gaps in a row', async () => {
  const w = await refusedFromThePresent('gap-bound', 60_000, 2);
  try {
    await expect(w.updates.next()).rejects.toMatchObject({ code: 'REPLAY_TOO_LARGE', message: expect.stringContaining('lastSeenAt: more than') });
    expect(w.gaps).toHaveLength(3);
    // After a wait as for a reconnect: at least half of 50 ms, then of 100 ms (jittered).
    expect(w.gapTimes[1]! - w.gapTimes[0]!).toBeGreaterThanOrEqual(20);
    expect(w.gapTimes[2]! - w.gapTimes[1]!).toBeGreaterThanOrEqual(45);
  } finally {
    await w.dispose();
  }
});

it('ends the subscription from the present when the signal aborts while onGap runs, though no update ever comes to it', async () => {
  const owner = 'gap-abort';
  const { client, proxy } = await clientThroughProxy(owner);
  const abort = new AbortController();
  const base = s.t.app.hub.listenerCount;
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
    await s.t.env.sql`
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
