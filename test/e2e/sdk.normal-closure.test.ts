/**
 * A proxy or load balancer between the SDK and longrun that ends the WebSocket with 1000 (normal closure):
 * graphql-ws' client then connects again at once and sends each subscription again with its first variables,
 * although the SDK turns its retries off; `watchJob` came back from a snapshot (the changes in between
 * skipped in silence) and `jobUpdates` from its first `since` (replaying all it had seen, refused past the
 * bound). The SDK takes such a close as any other lost connection: each resumes where its last update left
 * off, every update once, in order.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, type JobUpdate } from '../../sdk/index.js';
import { useAppWithWorkerSwitch } from '../support/app.js';
import { sdkFor } from '../support/sdk.js';
import { pastTheBound, sleep, waitForListeners, within } from '../support/sdk-updates.js';
import { startWsProxy, type WsProxy } from '../support/ws-proxy.js';

const s = useAppWithWorkerSwitch();
let proxy: WsProxy;
beforeAll(async () => {
  proxy = await startWsProxy(s.t.wsUrl);
});
afterAll(async () => {
  await proxy?.close();
});

/** Waits (up to 10 s) until the job is SUCCEEDED; answers the seqs of its recorded history. */
async function recordedWhenDone(client: ReturnType<typeof sdkFor>, id: string): Promise<number[]> {
  for (let i = 0; i < 500 && (await client.job(id))?.state !== 'SUCCEEDED'; i++) await sleep(20);
  const job = (await client.job(id))!;
  expect(job.state).toBe('SUCCEEDED');
  return job.events.map((e) => e.seq);
}

it('resumes watchJob after a proxy closes the connection with 1000 while the job advances: every update once, in order, to the end', async () => {
  const direct = sdkFor(s.t);
  const client = createClient({ url: s.t.url, wsUrl: proxy.url, token: s.t.key!, reconnectDelayMs: 50 });
  try {
    await s.workers.stop(); // the job waits QUEUED until the watch is attached
    const { job } = await direct.submitJob({ type: 'demo.sleep', payload: { ms: 300, steps: 3 } });
    const watch = client.watchJob(job!.id);
    const first = await within(watch.next(), 10_000, 'first update');
    expect(first.value).toMatchObject({ state: 'QUEUED' });
    const accepted = proxy.accepted;

    // The proxy ends the connection with 1000, and holds the next one while the job runs from start to end.
    const release = proxy.hold();
    proxy.closeAll(1000);
    await s.workers.start();
    const recorded = await recordedWhenDone(direct, job!.id);
    expect(recorded.length).toBeGreaterThan(2);
    release();

    const seen: JobUpdate[] = [first.value as JobUpdate];
    for (let r = await within(watch.next(), 10_000, 'update'); !r.done; r = await within(watch.next(), 10_000, 'update')) seen.push(r.value);
    expect(seen.map((u) => u.seq)).toEqual(recorded);
    expect(seen.at(-1)).toMatchObject({ state: 'SUCCEEDED', result: { slept: 300, steps: 3 } });
    expect(proxy.accepted).toBeGreaterThan(accepted); // it came back through the proxy
  } finally {
    await client.close();
    await direct.close();
  }
});

it('resumes jobUpdates after a proxy closes the connection with 1000 from its last update, not from its start: every update once, no refusal', async () => {
  const owner = 'normal-closure';
  const { key } = await s.t.createKey(owner);
  const client = createClient({ url: s.t.url, wsUrl: proxy.url, token: key, reconnectDelayMs: 50 });
  const abort = new AbortController();
  const seen: JobUpdate[] = [];
  const submit = async () => (await client.submitJob({ type: 'demo.noop', payload: {} })).job!.id;
  const updates = client.jobUpdates({ types: ['demo.noop'] }, { signal: abort.signal });
  /** Reads until the job's SUCCEEDED. */
  const readUntilDone = async (id: string) => {
    while (!seen.some((u) => u.jobId === id && u.state === 'SUCCEEDED')) {
      const r = await within(updates.next(), 15_000, 'update');
      expect(r.done).toBe(false);
      seen.push(r.value as JobUpdate);
    }
  };
  try {
    await s.workers.start();
    const base = s.t.app.hub.listenerCount;
    const firstRead = updates.next(); // subscribes
    await waitForListeners(s.t, base + 1);
    const first = await submit();
    seen.push((await within(firstRead, 15_000, 'first update')).value as JobUpdate);
    await readUntilDone(first);
    // Since it started, more of the owner's jobs changed than one replay sends (written with SQL: none went out
    // live); then a job that it sees from start to end, its latest update before the close.
    await pastTheBound(s.t, owner);
    await readUntilDone(await submit());
    const before = seen.length;

    // The proxy ends the connection with 1000, and holds the next one while a job runs from start to end.
    const release = proxy.hold();
    proxy.closeAll(1000);
    await waitForListeners(s.t, base);
    const away = await submit();
    const recorded = await recordedWhenDone(client, away);
    release();

    await readUntilDone(away);
    expect(seen.filter((u) => u.jobId === away).map((u) => u.seq)).toEqual(recorded);
    const keys = seen.map((u) => `${u.jobId}:${u.seq}`);
    expect(keys).toEqual([...new Set(keys)]); // nothing yielded before the close comes again
    expect(seen.length).toBeGreaterThan(before);
  } finally {
    abort.abort();
    await client.close();
  }
});

it("still lets graphql-ws send again a watch that started while its own 1000 closed the socket the watch before no longer needed", async () => {
  // A reconnect delay far beyond the test's timeout: a watch taken for lost on that close would never finish.
  const client = createClient({ url: s.t.url, wsUrl: s.t.wsUrl, token: s.t.key!, reconnectDelayMs: 600_000 });
  try {
    await s.workers.start();
    const { job } = await client.submitJob({ type: 'demo.noop', payload: {} });
    await recordedWhenDone(client, job!.id);
    // Each watch of the finished job gets its state and ends; graphql-ws then closes the socket (1000), and
    // the next watch, begun at once, waits for that close and goes out on a new connection.
    for (let i = 0; i < 10; i++) {
      const seen: JobUpdate[] = [];
      for await (const u of client.watchJob(job!.id)) seen.push(u);
      expect(seen.map((u) => u.state)).toEqual(['SUCCEEDED']);
    }
  } finally {
    await client.close();
  }
});
