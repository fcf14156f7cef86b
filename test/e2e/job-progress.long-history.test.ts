/**
 * `jobProgress(after: 0)` of a job with a long history (an hour of progress milestones is about 14,000
 * rows): the subscriber gets every recorded update, in order, then the end, on one socket that is not
 * closed for its unsent data (the replay waits for the socket instead of writing it in one burst), and the
 * API does not hold the whole history in memory while a slow subscriber reads it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, collect, wsClient } from '../support/graphql.js';
import { jobWithHistory } from '../support/history.js';
import { rawSocket } from '../support/raw-ws.js';

const PROGRESS = `subscription($id: ID!, $after: Int) { jobProgress(id: $id, after: $after) { seq state progress message } }`;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

it('replays 20,000 recorded updates after 0, in order, then completes, without closing the socket', async () => {
  // ~300 bytes a frame: 6 MB in all, more than the socket's 4 MiB cap on unsent data. Exactly 20 pages of
  // 1,000 rows: the last page ends with SUCCEEDED, and the empty read after it ends the stream.
  const { id, last } = await jobWithHistory(t, 19_997, 200);
  expect(last).toBe(20_000);
  const client = wsClient(t.wsUrl);
  let closed: number | null = null;
  client.on('closed', (e) => {
    closed = (e as { code: number }).code;
  });
  try {
    const r = await collect<{ seq: number; state: string; message: string | null }>(client, PROGRESS, { id, after: 0 });
    expect(r.errors).toEqual([]);
    expect(r.values).toHaveLength(last);
    expect(r.values.map((v) => v.seq)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(r.values[0]!.state).toBe('QUEUED');
    expect(r.values[5]!.message).toBe('6'.padStart(200, '.'));
    expect(r.values.at(-1)!.state).toBe('SUCCEEDED');
    expect(closed).toBe(null);
  } finally {
    await client.dispose();
  }
}, 60_000);

it('does not hold the whole history in memory while a subscriber that stopped reading replays it', async () => {
  // 20,000 messages of 4,000 characters: 80 MB of history, of which a page (1,000 rows) is 4 MB.
  const { id } = await jobWithHistory(t, 20_000, 4000);
  const s = rawSocket(t.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(t.key!) } });
  await s.next((m) => m.type === 'connection_ack');
  const before = process.memoryUsage().heapUsed;
  s.send({ id: '1', type: 'subscribe', payload: { query: PROGRESS, variables: { id, after: 0 } } });
  await s.next((m) => m.type === 'next' && m.payload.data.jobProgress.seq === 1);
  s.ws.pause(); // stop reading: the kernel's buffers fill, then the replay waits for the socket
  // The API runs in this process: its heap while the replay waits.
  let most = 0;
  for (let i = 0; i < 20; i++) {
    await new Promise((r) => setTimeout(r, 100));
    most = Math.max(most, process.memoryUsage().heapUsed - before);
  }
  expect(most).toBeLessThan(40 * 1024 * 1024);
  s.ws.resume();
  s.ws.close();
  await s.closed;
}, 60_000);
