/**
 * The SDK against a real app: typed calls, errors with codes, the bearer token on both transports, and
 * `watchJob` (no duplicate, no gap) and `jobUpdates` carrying on after network loss.
 */
import { getEventListeners } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, LongrunError, RESUME_OVERLAP_MS, type JobUpdate, type LongrunClient } from '../../sdk/index.js';
import { RESUME_OVERLAP_MS as SERVER_RESUME_OVERLAP_MS } from '../../src/progress/replay-bounds.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { subscriptions } from '../../sdk/subscriptions.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';
import { sdkFor } from '../support/sdk.js';
import { waitForJob } from '../support/graphql.js';

let t: TestApp;
let sdk: LongrunClient;
/** Stopped while a test holds a job QUEUED until its watcher is attached. */
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
  workers = workerSwitch(t);
  await workers.start();
});
afterAll(async () => {
  await workers?.stop();
  await sdk?.close();
  await t?.dispose();
});

/**
 * Attaches a quiet `jobUpdates` of demo.sleep jobs (a dashboard of failures, say: nothing to yield yet), holds
 * its connection down while such a job runs from start to end, then reads until that job's SUCCEEDED (or 3 s
 * without an update). What it read, the job and its recorded seqs.
 */
async function awayWhileQuiet(updates: AsyncIterator<JobUpdate>, proxy: TcpProxy): Promise<{ seen: JobUpdate[]; away: string; recorded: number[] }> {
  // The earlier tests' subscriptions end on the server first.
  for (let i = 0; i < 250 && t.app.hub.listenerCount !== 0; i++) await new Promise((r) => setTimeout(r, 20));
  const listeners = t.app.hub.listenerCount;
  const next = updates.next();
  for (let i = 0; i < 250 && t.app.hub.listenerCount !== listeners + 1; i++) await new Promise((r) => setTimeout(r, 20));
  expect(t.app.hub.listenerCount).toBe(listeners + 1);

  const release = proxy.hold();
  for (let i = 0; i < 250 && t.app.hub.listenerCount !== listeners; i++) await new Promise((r) => setTimeout(r, 20));
  const away = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 100, steps: 1 } })).job!.id;
  const recorded = (await waitForJob(t.url, away, (j) => j.state === 'SUCCEEDED')).events.map((e: { seq: number }) => e.seq);
  release();

  const seen: JobUpdate[] = [];
  const idle = () => new Promise<null>((r) => setTimeout(() => r(null), 3000));
  for (let r = await Promise.race([next, idle()]); r && !r.done; r = await Promise.race([updates.next(), idle()])) {
    seen.push(r.value);
    if (r.value.jobId === away && r.value.state === 'SUCCEEDED') break;
  }
  return { seen, away, recorded };
}

describe('SDK', () => {
  it('submits, reads, lists, cancels and retries with typed results', async () => {
    const { job, userErrors } = await sdk.submitJob({ type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 2 });
    expect(userErrors).toEqual([]);
    expect(job).toMatchObject({ type: 'demo.flaky', state: 'QUEUED', maxAttempts: 2 });
    const updates: JobUpdate[] = [];
    for await (const u of sdk.watchJob(job!.id)) updates.push(u);
    expect(updates.at(-1)).toMatchObject({ state: 'FAILED', jobId: job!.id, type: 'demo.flaky' });
    expect((await sdk.job(job!.id))?.events.at(-1)?.state).toBe('FAILED');
    expect((await sdk.jobs({ filter: { states: ['FAILED'] } })).edges.map((e) => e.node.id)).toContain(job!.id);
    // It is dead-lettered (the SDK's deadLetters), and the connection pages with microsecond cursors.
    let dead: Awaited<ReturnType<LongrunClient['deadLetters']>> | undefined;
    for (let i = 0; i < 200 && !dead?.edges.some((e) => e.node.id === job!.id); i++) {
      dead = await sdk.deadLetters({ first: 1 });
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(dead!.edges[0]!.node).toMatchObject({ id: job!.id, state: 'FAILED', type: 'demo.flaky' });
    expect(dead!.totalCount).toBeGreaterThanOrEqual(1);
    const next = await sdk.deadLetters({ first: 1, after: dead!.edges[0]!.cursor });
    expect(next.edges.map((e) => e.node.id)).not.toContain(job!.id);
    expect((await sdk.deadLetters({ type: 'demo.sleep' })).edges).toEqual([]);

    const retried = await sdk.retryJob(job!.id);
    expect(retried.userErrors).toEqual([]);
    expect(retried.job?.state).toBe('QUEUED');
    const slow = (await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 60_000, steps: 60 } })).job!;
    expect((await sdk.cancelJob(slow.id)).job?.id).toBe(slow.id);
    expect((await sdk.cancelJob('00000000-0000-4000-8000-000000000000').catch((e) => e)) as LongrunError).toMatchObject({ code: 'NOT_FOUND' });
    expect((await sdk.queueStats()).map((s) => s.type)).toContain('demo.sleep');
  });

  it('throws a LongrunError with the code for an unknown job in watchJob', async () => {
    const it = sdk.watchJob('00000000-0000-4000-8000-000000000000');
    await expect(it.next()).rejects.toMatchObject({ name: 'LongrunError', code: 'NOT_FOUND' });
  });

  it('ends an open watchJob and jobUpdates with CLOSED when the client is closed, instead of as if the job had finished', async () => {
    const client = sdkFor(t);
    await workers.stop(); // the job stays QUEUED: no update can come before the close
    const { job } = await sdk.submitJob({ type: 'demo.noop' });
    try {
      const watch = client.watchJob(job!.id);
      expect((await watch.next()).value).toMatchObject({ jobId: job!.id });
      const updates = client.jobUpdates({ ids: [job!.id] });
      const listeners = t.app.hub.listenerCount;
      const pending = [watch.next(), updates.next()];
      for (let i = 0; i < 250 && t.app.hub.listenerCount < listeners + 1; i++) await new Promise((r) => setTimeout(r, 20));
      await client.close();
      const settled = (p: Promise<unknown>) =>
        Promise.race([p.then((v) => ({ v }), (e: unknown) => ({ e })), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
      for (const p of pending) {
        expect(await settled(p)).toEqual({ e: expect.objectContaining({ name: 'LongrunError', code: 'CLOSED' }) });
      }
      expect((await sdk.job(job!.id))!.state).toBe('QUEUED');
    } finally {
      await client.close();
      await workers.start();
    }
  });

  it('closes at once while its WebSocket is still connecting to a server that accepts and never answers, ending the watch with CLOSED', async () => {
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((s) => sockets.add(s.on('error', () => {})));
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    const client = createClient({ url: `http://127.0.0.1:${(silent.address() as AddressInfo).port}/graphql`, token: 'x' });
    try {
      const watch = client.watchJob('00000000-0000-4000-8000-000000000000').next();
      watch.catch(() => {}); // awaited below
      for (let i = 0; i < 250 && sockets.size === 0; i++) await new Promise((r) => setTimeout(r, 20));
      const settled = (p: Promise<unknown>) =>
        Promise.race([p.then((v) => ({ v }), (e: unknown) => ({ e })), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
      expect(await settled(client.close())).toEqual({ v: undefined });
      expect(await settled(watch)).toEqual({ e: expect.objectContaining({ name: 'LongrunError', code: 'CLOSED' }) });
    } finally {
      for (const s of sockets) s.destroy();
      await new Promise((r) => silent.close(r));
    }
  });

  it('ends watchJob and jobUpdates when their signal aborts, at once, not with the next update after it', async () => {
    // One step of a minute: after its RUNNING, the job sends nothing for a minute.
    const { job } = await sdk.submitJob({ type: 'demo.sleep', payload: { ms: 60_000, steps: 1 } });
    try {
      await waitForJob(t.url, job!.id, (j) => j.state === 'RUNNING');
      const watchAbort = new AbortController();
      const watch = sdk.watchJob(job!.id, { signal: watchAbort.signal });
      expect((await watch.next()).value).toMatchObject({ jobId: job!.id, state: 'RUNNING' });
      const updatesAbort = new AbortController();
      const listeners = t.app.hub.listenerCount;
      const updates = sdk.jobUpdates({ ids: [job!.id] }, { signal: updatesAbort.signal });
      const pending = [watch.next(), updates.next()];
      for (let i = 0; i < 250 && t.app.hub.listenerCount < listeners + 1; i++) await new Promise((r) => setTimeout(r, 20));
      watchAbort.abort();
      updatesAbort.abort();
      const settled = (p: Promise<unknown>) =>
        Promise.race([p.then((v) => ({ v }), (e: unknown) => ({ e })), new Promise((r) => setTimeout(() => r('still open'), 3000))]);
      for (const p of pending) expect(await settled(p)).toEqual({ v: { done: true, value: undefined } });
      // The server dropped both subscriptions: none of their listeners is left (the watch's was counted before).
      for (let i = 0; i < 250 && t.app.hub.listenerCount !== listeners - 1; i++) await new Promise((r) => setTimeout(r, 20));
      expect(t.app.hub.listenerCount).toBe(listeners - 1);
    } finally {
      await sdk.cancelJob(job!.id);
    }
  });

  it('resumes watchJob after the connection is cut, with no duplicate and no gap', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: t.key!, reconnectDelayMs: 50 });
    try {
      await workers.stop(); // the job waits QUEUED until the watch is attached
      const { job } = await client.submitJob({ type: 'demo.sleep', payload: { ms: 2400, steps: 12 } });
      const seen: JobUpdate[] = [];
      for await (const u of client.watchJob(job!.id)) {
        seen.push(u);
        if (seen.length === 1) await workers.start();
        if (seen.length === 3 || seen.length === 6) proxy.cut();
      }
      expect(proxy.accepted).toBeGreaterThanOrEqual(3);
      const seqs = seen.map((u) => u.seq);
      expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
      expect(seen.at(-1)).toMatchObject({ state: 'SUCCEEDED', result: { slept: 2400, steps: 12 } });
      // Every state change reached the watcher. (Progress milestones are recorded with a throttle, after
      // they went out live: one published while the watcher was away may not be recorded yet when it resumes.)
      const events = (await client.job(job!.id))!.events;
      const transitions = events.filter((e, i) => e.seq > seqs[0]! && e.state !== events[i - 1]?.state).map((e) => e.seq);
      expect(transitions.length).toBeGreaterThan(0);
      expect(transitions.filter((s) => !seqs.includes(s))).toEqual([]);
    } finally {
      await client.close();
      await proxy.close();
    }
  });

  it('leaves no listener on the signal per reconnect: a long-lived jobUpdates over a flaky network holds none of its waits', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: t.key!, reconnectDelayMs: 10 });
    const abort = new AbortController();
    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    try {
      const updates = client.jobUpdates({ ids: ['00000000-0000-4000-8000-000000000000'] }, { signal: abort.signal });
      const pending = updates.next();
      pending.catch(() => {}); // awaited below
      for (let cuts = 0; cuts < 12; cuts++) {
        for (let i = 0; i < 250 && proxy.accepted <= cuts; i++) await new Promise((r) => setTimeout(r, 20));
        await new Promise((r) => setTimeout(r, 50)); // its subscribe sent
        proxy.cut();
      }
      for (let i = 0; i < 250 && proxy.accepted <= 12; i++) await new Promise((r) => setTimeout(r, 20));
      expect(proxy.accepted).toBe(13);
      // The subscription open now listens for the abort; the 12 waits before the reconnects are over.
      expect(getEventListeners(abort.signal, 'abort').length).toBeLessThanOrEqual(1);
      expect(warnings.filter((w) => w.name === 'MaxListenersExceededWarning')).toEqual([]);
      abort.abort();
      expect(await pending).toEqual({ done: true, value: undefined });
    } finally {
      process.off('warning', onWarning);
      await client.close();
      await proxy.close();
    }
  });

  it('keeps jobUpdates going after the connection is cut: the updates of jobs submitted after the reconnect arrive', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: t.key!, reconnectDelayMs: 50 });
    const abort = new AbortController();
    try {
      const updates = client.jobUpdates({ types: ['demo.noop'], states: ['SUCCEEDED'] }, { signal: abort.signal });
      // Submits a job every 200 ms until one of them comes through the iterator as SUCCEEDED (the
      // subscription is live only: it sees the jobs that finish once it is attached); earlier jobs' updates
      // are passed over.
      const nextFinished = async (): Promise<JobUpdate> => {
        const submitted = new Set<string>();
        let done = false;
        const submitting = (async () => {
          while (!done) {
            submitted.add((await client.submitJob({ type: 'demo.noop', payload: {} })).job!.id);
            await new Promise((r) => setTimeout(r, 200));
          }
        })();
        try {
          for (;;) {
            const r = await updates.next();
            expect(r.done).toBe(false);
            if (submitted.has(r.value.jobId)) return r.value;
          }
        } finally {
          done = true;
          await submitting;
        }
      };
      expect(await nextFinished()).toMatchObject({ state: 'SUCCEEDED', type: 'demo.noop' });
      proxy.cut();
      await new Promise((r) => setTimeout(r, 100)); // let the socket notice it is gone
      // Whatever arrived between the cut and now is fine; after the reconnect new jobs come through.
      for (let i = 0; i < 3; i++) expect(await nextFinished()).toMatchObject({ state: 'SUCCEEDED' });
      expect(proxy.accepted).toBeGreaterThanOrEqual(2);
    } finally {
      abort.abort();
      await client.close();
      await proxy.close();
    }
  });

  it('replays in jobUpdates, after a reconnect, the changes made while the connection was down, each once', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: t.key!, reconnectDelayMs: 50 });
    const abort = new AbortController();
    const seen: JobUpdate[] = [];
    const finished = (id: string | undefined) => seen.some((u) => u.jobId === id && u.state === 'SUCCEEDED');
    let a: { id: string } | undefined;
    try {
      const updates = client.jobUpdates({ types: ['demo.sleep'] }, { signal: abort.signal });
      const until = async (done: () => boolean) => {
        while (!done()) {
          const r = await updates.next();
          expect(r.done).toBe(false);
          seen.push(r.value);
        }
      };
      const listeners = t.app.hub.listenerCount;
      const first = until(() => finished(a?.id));
      for (let i = 0; i < 250 && t.app.hub.listenerCount !== listeners + 1; i++) await new Promise((r) => setTimeout(r, 20));
      a = (await client.submitJob({ type: 'demo.sleep', payload: { ms: 100, steps: 1 } })).job!;
      await first;

      // The connection goes down, and stays down while two jobs run from start to end.
      const release = proxy.hold();
      for (let i = 0; i < 250 && t.app.hub.listenerCount !== listeners; i++) await new Promise((r) => setTimeout(r, 20));
      expect(t.app.hub.listenerCount).toBe(listeners); // the server has dropped the subscription
      const away = [
        (await client.submitJob({ type: 'demo.sleep', payload: { ms: 100, steps: 1 } })).job!,
        (await client.submitJob({ type: 'demo.sleep', payload: { ms: 200, steps: 2 } })).job!,
      ];
      const recorded = new Map<string, number[]>();
      for (const j of away) {
        recorded.set(j.id, (await waitForJob(t.url, j.id, (x) => x.state === 'SUCCEEDED')).events.map((e: { seq: number }) => e.seq));
      }
      release();

      await until(() => away.every((j) => finished(j.id)));
      expect(proxy.accepted).toBeGreaterThanOrEqual(2);
      for (const j of away) expect(seen.filter((u) => u.jobId === j.id).map((u) => u.seq)).toEqual(recorded.get(j.id));
      const keys = seen.map((u) => `${u.jobId}:${u.seq}`);
      expect(keys).toEqual([...new Set(keys)]); // A's updates, replayed again from before the cut, are not repeated
    } finally {
      abort.abort();
      await client.close();
      await proxy.close();
    }
  });

  it('resumes jobUpdates after a short disconnect on a busy system (over 10,000 changes in the 5 s before its last update) without a refusal, a gap or a repeat', async () => {
    const busy = (await t.createKey('sdk-busy')).key;
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: busy, reconnectDelayMs: 50 });
    const abort = new AbortController();
    const seen: JobUpdate[] = [];
    const finished = (id: string | undefined) => seen.some((u) => u.jobId === id && u.state === 'SUCCEEDED');
    try {
      // Half a second ago, 10,000 jobs changed (their QUEUED; finished, so no worker takes them) ...
      const [{ at } = { at: new Date(0) }] = await t.env.sql<{ at: Date }[]>`select now() - interval '0.5 seconds' as at`;
      await t.env.sql`
        insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, created_at, updated_at, finished_at)
        select gen_random_uuid(), 'sdk-busy', 'demo.noop', 'SUCCEEDED', '{}', 1, 1000, ${at}, ${at}, ${at}
        from generate_series(1, 10000)`;
      for (let i = 0; i < 250 && t.app.hub.listenerCount !== 0; i++) await new Promise((r) => setTimeout(r, 20));
      const listeners = t.app.hub.listenerCount;
      // ... which the client sees (a replay from then: at the bound, not past it) ...
      const updates = client.jobUpdates({}, { since: at.toISOString(), signal: abort.signal });
      const until = async (done: () => boolean) => {
        while (!done()) {
          const r = await updates.next();
          expect(r.done).toBe(false);
          seen.push(r.value);
        }
      };
      // ... then live, a job from start to end: the latest update the client sees before the cut.
      let a: { id: string } | undefined;
      const first = until(() => finished(a?.id));
      for (let i = 0; i < 250 && t.app.hub.listenerCount !== listeners + 1; i++) await new Promise((r) => setTimeout(r, 20));
      a = (await client.submitJob({ type: 'demo.noop', payload: {} })).job!;
      await first;
      expect(seen.filter((u) => u.jobId !== a!.id)).toHaveLength(10_000);
      // (The 10,000 are within the overlap of the resume, else this would prove nothing; the SDK remembers the
      // jobs of as long an overlap as the server replays.)
      expect(RESUME_OVERLAP_MS).toBe(SERVER_RESUME_OVERLAP_MS);
      expect(Date.parse(seen.at(-1)!.at) - at.getTime()).toBeLessThan(RESUME_OVERLAP_MS);

      const release = proxy.hold();
      for (let i = 0; i < 250 && t.app.hub.listenerCount !== listeners; i++) await new Promise((r) => setTimeout(r, 20));
      const away = (await client.submitJob({ type: 'demo.noop', payload: {} })).job!;
      const recorded = (await waitForJob(t.url, away.id, (j) => j.state === 'SUCCEEDED')).events.map((e: { seq: number }) => e.seq);
      release();

      await until(() => finished(away.id));
      expect(proxy.accepted).toBeGreaterThanOrEqual(2);
      expect(seen.filter((u) => u.jobId === away.id).map((u) => u.seq)).toEqual(recorded);
      const keys = seen.map((u) => `${u.jobId}:${u.seq}`);
      // The 10,000 and A's updates, replayed again by the overlap, are not yielded again.
      expect(keys).toEqual([...new Set(keys)]);
    } finally {
      abort.abort();
      await client.close();
      await proxy.close();
    }
  });

  it('replays in jobUpdates the changes made while the connection was down also when it had yielded nothing before', async () => {
    const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
    const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: t.key!, reconnectDelayMs: 50 });
    const abort = new AbortController();
    try {
      const { seen, away, recorded } = await awayWhileQuiet(client.jobUpdates({ types: ['demo.sleep'] }, { signal: abort.signal }), proxy);
      expect(seen.filter((u) => u.jobId === away).map((u) => u.seq)).toEqual(recorded);
    } finally {
      abort.abort();
      await client.close();
      await proxy.close();
    }
  });

  it("resumes jobUpdates that had yielded nothing from its start by the server's clock: a client clock 30 s ahead misses nothing, one 10 min behind replays nothing old", async () => {
    // A change a minute old, which a replay from its start by the client's clock 10 min behind would send.
    await t.env.sql`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, created_at, updated_at, finished_at)
      values (gen_random_uuid(), 'test', 'demo.sleep', 'SUCCEEDED', '{}', 1, 1000, now() - interval '1 minute',
              now() - interval '1 minute', now() - interval '1 minute')`;
    for (const skewMs of [30_000, -600_000]) {
      const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
      const live = subscriptions({
        wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`,
        authorization: `Bearer ${t.key!}`,
        reconnectAttempts: 20,
        reconnectDelayMs: 50,
        keepAliveMs: 10_000,
        connectTimeoutMs: 10_000,
        now: () => Date.now() + skewMs,
      });
      const abort = new AbortController();
      try {
        const startedAt = Date.now(); // the server's clock (the app runs in this process)
        const { seen, away, recorded } = await awayWhileQuiet(live.jobUpdates({ types: ['demo.sleep'] }, { signal: abort.signal }), proxy);
        expect(seen.filter((u) => u.jobId === away).map((u) => u.seq)).toEqual(recorded);
        // Nothing from before its start but the overlap.
        expect(seen.filter((u) => Date.parse(u.at) < startedAt - RESUME_OVERLAP_MS - 1000)).toEqual([]);
      } finally {
        abort.abort();
        await live.close();
        await proxy.close();
      }
    }
  });

  it('says a URL that is not the GraphQL endpoint is likely missing /graphql, instead of printing the page', async () => {
    const client = createClient({ url: t.url.replace(/\/graphql$/, '/'), token: t.key! });
    const err = (await client.queueStats().catch((e) => e)) as LongrunError;
    expect(err).toBeInstanceOf(LongrunError);
    expect(err.code).toBe('BAD_REQUEST');
    expect(err.message).toMatch(/answered HTTP 404, not a GraphQL response \(is it longrun's \/graphql endpoint\?\)/);
    await client.close();
  });

  it("gives a proxy's answer that is no GraphQL response the code longrun gives its status (429 RATE_LIMITED, 413 PAYLOAD_TOO_LARGE), not BAD_REQUEST", async () => {
    const answers: [number, string][] = [[429, 'Too Many Requests'], [413, '<html><h1>413 Request Entity Too Large</h1></html>'], [401, ''], [403, 'denied'], [502, 'Bad Gateway'], [404, 'no such page']];
    for (const [status, body] of answers) {
      const proxy = http.createServer((_req, res) => res.writeHead(status, { 'content-type': 'text/html' }).end(body));
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const client = createClient({ url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql` });
      try {
        const err = (await client.jobs().catch((e) => e)) as LongrunError;
        expect(err).toBeInstanceOf(LongrunError);
        expect([status, err.code]).toEqual([status, { 429: 'RATE_LIMITED', 413: 'PAYLOAD_TOO_LARGE', 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 502: 'SERVICE_UNAVAILABLE', 404: 'BAD_REQUEST' }[status]]);
        expect(err.message).toContain(`answered HTTP ${status}`);
      } finally {
        await client.close();
        await new Promise((r) => proxy.close(r));
      }
    }
  });

  it("reads a proxy's Retry-After (seconds or an HTTP date) into extensions.retryAfter, as longrun's own 429 carries it", async () => {
    const inAMinute = new Date(Math.ceil(Date.now() / 1000) * 1000 + 60_000).toUTCString();
    const answers: { status: number; headers: Record<string, string>; body: string; transport: 'node' | 'fetch' }[] = [
      { status: 429, headers: { 'retry-after': '7' }, body: 'Too Many Requests', transport: 'node' },
      { status: 429, headers: { 'retry-after': '7' }, body: 'Too Many Requests', transport: 'fetch' },
      { status: 429, headers: { 'retry-after': inAMinute }, body: '', transport: 'node' },
      // JSON, but no GraphQL response (an API gateway's own answer).
      { status: 429, headers: { 'retry-after': '3', 'content-type': 'application/json' }, body: '{"message":"API rate limit exceeded"}', transport: 'node' },
      { status: 503, headers: { 'retry-after': '30' }, body: 'down for maintenance', transport: 'node' },
      { status: 429, headers: {}, body: 'Too Many Requests', transport: 'node' },
    ];
    const seen: unknown[] = [];
    for (const { status, headers, body, transport } of answers) {
      const proxy = http.createServer((_req, res) => res.writeHead(status, headers).end(body));
      await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}/graphql`;
      const client = createClient({ url, ...(transport === 'fetch' ? { fetch: globalThis.fetch } : {}) });
      try {
        const err = (await client.submitJob({ type: 'demo.noop', payload: {} }).catch((e) => e)) as LongrunError;
        expect(err).toBeInstanceOf(LongrunError);
        seen.push([status, err.code, err.errors[0]?.extensions]);
      } finally {
        await client.close();
        await new Promise((r) => proxy.close(r));
      }
    }
    expect(seen).toEqual([
      [429, 'RATE_LIMITED', { code: 'RATE_LIMITED', retryAfter: 7 }],
      [429, 'RATE_LIMITED', { code: 'RATE_LIMITED', retryAfter: 7 }],
      [429, 'RATE_LIMITED', { code: 'RATE_LIMITED', retryAfter: expect.any(Number) }],
      [429, 'RATE_LIMITED', { code: 'RATE_LIMITED', retryAfter: 3 }],
      [503, 'SERVICE_UNAVAILABLE', { code: 'SERVICE_UNAVAILABLE', retryAfter: 30 }],
      [429, 'RATE_LIMITED', { code: 'RATE_LIMITED' }],
    ]);
    const minute = (seen[2] as [number, string, { retryAfter: number }])[2].retryAfter;
    expect(minute).toBeGreaterThanOrEqual(58);
    expect(minute).toBeLessThanOrEqual(61);
  });

  it('fails watchJob at once with NETWORK when the server was never reached, instead of retrying for minutes', async () => {
    // A port nothing listens on.
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((r) => closed.close(r));
    // A reconnect delay far beyond the test's timeout: a watch that retried would never finish.
    const client = createClient({ url: `http://127.0.0.1:${port}/graphql`, token: 'x', reconnectDelayMs: 600_000 });
    try {
      await expect(client.watchJob('00000000-0000-4000-8000-000000000000').next()).rejects.toMatchObject({
        name: 'LongrunError',
        code: 'NETWORK',
        message: expect.stringMatching(new RegExp(`^cannot reach ws://127\\.0\\.0\\.1:${port}/graphql: .*ECONNREFUSED`)),
      });
    } finally {
      await client.close();
    }
  });

  it('sends the token as an Authorization header and as graphql-ws connectionParams', async () => {
    const headers: (string | undefined)[] = [];
    const params: unknown[] = [];
    const server = http.createServer((req, res) => {
      headers.push(req.headers.authorization);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ data: { queueStats: [] } }));
    });
    const wss = new WebSocketServer({ server, path: '/graphql', handleProtocols: () => 'graphql-transport-ws' });
    wss.on('connection', (socket) => {
      socket.once('message', (m) => {
        params.push(JSON.parse(String(m)).payload);
        socket.close(4403, 'Forbidden');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
    const client = createClient({ url, token: 's3cret' });
    try {
      await client.queueStats();
      await expect(client.watchJob('00000000-0000-4000-8000-000000000000').next()).rejects.toMatchObject({ code: 'FORBIDDEN' });
      expect(headers).toEqual(['Bearer s3cret']);
      expect(params).toEqual([{ authorization: 'Bearer s3cret' }]);
    } finally {
      await client.close();
      wss.close();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    }
  });

  it('takes a token read from a file as is, its line break included (.data/dev-key ends in one), on both transports', async () => {
    const client = createClient({ url: t.url, token: `${t.key}\n`, reconnectDelayMs: 50 });
    try {
      expect((await client.jobTypes()).map((j) => j.name)).toContain('demo.sleep');
      const { job } = await client.submitJob({ type: 'demo.noop' });
      const states: string[] = [];
      for await (const u of client.watchJob(job!.id)) states.push(u.state);
      expect(states.at(-1)).toBe('SUCCEEDED');
    } finally {
      await client.close();
    }
  });
});
