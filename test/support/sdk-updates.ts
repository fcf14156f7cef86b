/**
 * For files that follow the SDK's `jobUpdates` while the API's replays are refused: the API (no workers: the
 * jobs submitted stay QUEUED) on NATS through a proxy, to cut it off, and what those tests wait for and write.
 */
import { expect } from 'vitest';
import type { JobUpdate } from '../../sdk/index.js';
import { MAX_REPLAY_ROWS } from '../../src/progress/replay-bounds.js';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from './app.js';
import { useFixture } from './fixture.js';
import { startTcpProxyFor, type TcpProxy } from './proxy.js';

/** The file's test env, a proxy in front of its NATS, and the API without workers on NATS through it. */
export function useApiOnProxiedNats(): { readonly env: TestEnv; readonly nats: TcpProxy; readonly t: TestApp } {
  return useFixture(async (later) => {
    const env = await createTestEnv();
    later(() => env.dispose());
    const proxied = await startTcpProxyFor(env.natsUrl);
    later(() => proxied.proxy.close());
    const t = await startTestApp({ env, handlers: null, config: { NATS_URL: proxied.url } });
    later(() => t.dispose());
    return { env, nats: proxied.proxy, t };
  });
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Resolves with `p`, or rejects once `ms` have passed (an iterator waiting for ever, say). */
export const within = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
  Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`no ${what} within ${ms} ms`)), ms).unref())]);

/**
 * A change from before a subscription starts: `submit` (a job, QUEUED), then 200 ms. The SDK's `since` is the
 * call's instant by the server's clock, early by the way of the connection's ack over the network (README): a
 * few ms here, more on a loaded machine, where a job answered just before the call had its change after the
 * `since` sent, and was replayed (CI saw it once). That lateness is not measured; this waits well past it.
 */
export async function submitBefore(submit: () => Promise<string>): Promise<string> {
  const id = await submit();
  await sleep(200);
  return id;
}

/** Waits (up to 5 s) until the API has `n` update listeners. */
export async function waitForListeners(t: TestApp, n: number): Promise<void> {
  for (let i = 0; i < 250 && t.app.hub.listenerCount !== n; i++) await sleep(20);
  expect(t.app.hub.listenerCount).toBe(n);
}

/** The next update, or a failure after 15 s without one. */
export async function nextUpdate(updates: AsyncIterator<JobUpdate>): Promise<JobUpdate> {
  const r = await Promise.race([updates.next(), sleep(15_000).then(() => Promise.reject(new Error('no update in 15 s')))]);
  expect(r.done).toBe(false);
  return r.value as JobUpdate;
}

/**
 * Reads `updates` until the update of the job `submit` makes once `ready(<the updates read>)` holds (asked every 20 ms, for up
 * to 30 s): answers every update read.
 */
export async function readPast(updates: AsyncIterator<JobUpdate>, ready: (seen: JobUpdate[]) => boolean, submit: () => Promise<string>): Promise<JobUpdate[]> {
  const seen: JobUpdate[] = [];
  let last: string | undefined;
  const reading = (async () => {
    for (;;) {
      const u = await nextUpdate(updates);
      seen.push(u);
      if (u.jobId === last) return;
    }
  })();
  reading.catch(() => {}); // awaited below
  for (let i = 0; i < 1500 && !ready(seen); i++) await Promise.race([sleep(20), reading]);
  expect(ready(seen)).toBe(true);
  last = await submit();
  await reading;
  return seen;
}

/**
 * More of `owner`'s jobs changed than one replay sends (written with SQL: none is published), `aheadMs` after
 * PostgreSQL's now: a replay from any instant before then counts them all.
 */
export async function pastTheBound(t: TestApp, owner: string, aheadMs = 0): Promise<void> {
  await t.env.sql`
    insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, created_at, updated_at, finished_at)
    select gen_random_uuid(), ${owner}, 'demo.noop', 'SUCCEEDED', '{}', 1, 1000, at, at, at
    from generate_series(1, ${MAX_REPLAY_ROWS + 1}), (select now() + ${aheadMs} * interval '1 millisecond' as at) a`;
}

/** PostgreSQL's clock. */
export const dbNow = async (t: TestApp) => (await t.env.sql<{ now: Date }[]>`select now()`)[0]!.now;

/** Each update once: by (jobId, seq). */
export const expectOnceEach = (seen: JobUpdate[]) => expect(new Set(seen.map((u) => `${u.jobId}:${u.seq}`)).size).toBe(seen.length);
