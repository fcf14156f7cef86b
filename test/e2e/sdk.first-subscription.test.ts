/**
 * The SDK's first `jobUpdates` subscription without a caller's `since` starts from the instant `jobUpdates()` was
 * called (not its first read), by the server's clock (not live only): a reread the server cannot make later (its NATS connection
 * back after more changes than one replay sends) is a gap, `onGap`, or the iterator fails with
 * REPLAY_TOO_LARGE without it, never changes skipped in silence; and in the normal case it still gets nothing
 * from before it started and every change after it, once, whatever this machine's clock says.
 */
import { expect, it } from 'vitest';
import { createClient, LongrunError, type ReplayGap } from '../../sdk/index.js';
import { subscriptions } from '../../sdk/subscriptions.js';
import { dbNow, expectOnceEach, submitBefore, nextUpdate as next, pastTheBound, readPast, sleep, useApiOnProxiedNats, waitForListeners } from '../support/sdk-updates.js';

const s = useApiOnProxiedNats();
const listeners = (n: number) => waitForListeners(s.t, n);

/**
 * The API cut off from NATS while more of `owner`'s jobs change than one replay sends (written with SQL:
 * none is published); once it is back, it rereads them for every subscription. Returns once it is back.
 */
async function natsAwayPastTheBound(owner: string): Promise<void> {
  const nc = s.t.app.deps.nats.nc;
  const back = (async () => {
    for await (const status of nc.status()) if (status.type === 'reconnect') return;
  })();
  const release = s.nats.hold();
  await pastTheBound(s.t, owner);
  release();
  await back;
  await nc.flush();
}

/** A client of its own owner (the bulk rows of one test do not refuse another's reread). */
async function clientOf(owner: string) {
  const { key } = await s.t.createKey(owner);
  const client = createClient({ url: s.t.url, wsUrl: s.t.wsUrl, token: key, reconnectDelayMs: 50 });
  return { client, key, submit: async () => (await client.submitJob({ type: 'demo.noop', payload: {} })).job!.id };
}

it("calls onGap once when the server's reread after its NATS connection was back is past the bound, and goes on", async () => {
  const { client, submit } = await clientOf('first-gap');
  const abort = new AbortController();
  const gaps: ReplayGap[] = [];
  const base = s.t.app.hub.listenerCount;
  try {
    const startedAt = Date.now(); // the server's clock (the app runs in this process)
    const updates = client.jobUpdates({ types: ['demo.noop'] }, { signal: abort.signal, onGap: (gap) => void gaps.push(gap) });
    const firstRead = next(updates);
    await listeners(base + 1);
    const before = await submit();
    const first = await firstRead;
    expect(first.jobId).toBe(before);

    const cutAt = await dbNow(s.t);
    await natsAwayPastTheBound('first-gap');
    // A live-only subscription skipped the bulk rows without a word: no gap ever came.
    const seen = await readPast(updates, () => gaps.length > 0, submit);
    expect(gaps).toHaveLength(1);
    // From the iterator's start (the server's reread started there: the last news from NATS was less than 5 s
    // before it), by the server's clock: not before this process's clock said it started (but for the ack's
    // way over the network), and before the cut.
    const gapAt = Date.parse(gaps[0]!.since);
    expect(gapAt).toBeGreaterThan(startedAt - 1000);
    expect(gapAt).toBeLessThanOrEqual(Date.parse(first.at));
    expect(gapAt).toBeLessThan(cutAt.getTime());
    // Then the submit's update (after the bulk rows the 5 s overlap of the subscription from the present sent).
    expect(seen.at(-1)).toMatchObject({ state: 'QUEUED' });
    expect(seen.some((u) => u.jobId === before)).toBe(false); // not yielded twice
    expectOnceEach(seen);
  } finally {
    abort.abort();
    await client.close();
  }
});

it("fails with REPLAY_TOO_LARGE without onGap when the server's reread after its NATS connection was back is past the bound", async () => {
  const { client, submit } = await clientOf('first-throw');
  const base = s.t.app.hub.listenerCount;
  try {
    const updates = client.jobUpdates({ types: ['demo.noop'] });
    const firstRead = next(updates);
    await listeners(base + 1);
    await submit();
    await firstRead;

    const outcome = updates.next().catch((e: unknown) => e);
    await natsAwayPastTheBound('first-throw');
    // A change after the reconnect: a subscription that skipped the reread yields it instead.
    await submit();
    const refused = await outcome;
    expect(refused).toBeInstanceOf(LongrunError);
    expect(refused).toMatchObject({ code: 'REPLAY_TOO_LARGE', message: expect.stringContaining('since: more than') });
  } finally {
    await client.close();
  }
});

it("gets nothing from before it started and every change after, once, by the server's clock: this machine's 10 min behind, 2 min ahead, or stepped 2 s ahead as it started", async () => {
  const owner = 'first-normal';
  const { client, key, submit } = await clientOf(owner);
  // A change a minute old, which a start by the clock 10 min behind would replay.
  await s.t.env.sql`
    insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, created_at, updated_at, finished_at)
    values (gen_random_uuid(), ${owner}, 'demo.noop', 'SUCCEEDED', '{}', 1, 1000, now() - interval '1 minute',
            now() - interval '1 minute', now() - interval '1 minute')`;
  let calls = 0;
  const clocks: [string, () => number][] = [
    ['10 min behind', () => Date.now() - 600_000],
    ['2 min ahead', () => Date.now() + 120_000], // a since by it would be refused (more than a minute ahead)
    // Its first reading is the iterator's start; those after it (the ack's) are right: the since sent is
    // 2 s ahead of the server, and the changes committed after the server listened still come (live).
    ['stepped ahead', () => Date.now() + (calls++ === 0 ? 2000 : 0)],
  ];
  try {
    for (const [clock, now] of clocks) {
      const live = subscriptions({
        wsUrl: s.t.wsUrl,
        authorization: `Bearer ${key}`,
        reconnectAttempts: 20,
        reconnectDelayMs: 50,
        keepAliveMs: 10_000,
        connectTimeoutMs: 10_000,
        now,
      });
      const abort = new AbortController();
      const base = s.t.app.hub.listenerCount;
      try {
        await submitBefore(submit); // before the start
        const updates = live.jobUpdates({ types: ['demo.noop'] }, { signal: abort.signal });
        const firstRead = next(updates);
        await listeners(base + 1);
        const after = [await submit(), await submit()];
        const seen = [await firstRead, await next(updates)];
        expect([clock, seen.map((u) => [u.jobId, u.state])]).toEqual([clock, after.map((id) => [id, 'QUEUED'])]);
        expectOnceEach(seen);
      } finally {
        abort.abort();
        await live.close();
      }
      await listeners(base); // the server has ended it: the next counts from there
    }
  } finally {
    await client.close();
  }
});

it('starts from when jobUpdates() was called, not from its first read: a change in between comes first', async () => {
  const { client, submit } = await clientOf('first-called');
  const abort = new AbortController();
  const base = s.t.app.hub.listenerCount;
  try {
    await submitBefore(submit); // before the call
    const updates = client.jobUpdates({ types: ['demo.noop'] }, { signal: abort.signal });
    const between = await submit(); // after the call, before any read (it used to start at the first read, after it)
    await sleep(50);
    const firstRead = next(updates);
    await listeners(base + 1);
    const after = await submit();
    expect(await firstRead).toMatchObject({ jobId: between, state: 'QUEUED' });
    expect(await next(updates)).toMatchObject({ jobId: after, state: 'QUEUED' });
  } finally {
    abort.abort();
    await client.close();
  }
});
