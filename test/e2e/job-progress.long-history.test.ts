/**
 * `jobProgress(after: 0)` of a job with a long history (an hour of progress milestones is about 14,000
 * rows): the subscriber gets every recorded update, in order, then the end, on one socket that is not
 * closed for its unsent data (the replay waits for the socket instead of writing it in one burst), and the
 * API does not hold the whole history in memory while a slow subscriber reads it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, collect, gql, SUBMIT, wsClient } from '../support/graphql.js';
import { rawSocket } from '../support/raw-ws.js';

const PROGRESS = `subscription($id: ID!, $after: Int) { jobProgress(id: $id, after: $after) { seq state progress message } }`;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

/**
 * A SUCCEEDED job whose history is QUEUED, RUNNING, `milestones` progress rows with messages of
 * `messageChars` characters, and SUCCEEDED, written straight into PostgreSQL as a worker would have.
 * Answers the job's id and its last seq.
 */
async function jobWithHistory(milestones: number, messageChars: number): Promise<{ id: string; last: number }> {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } });
  const id: string = r.body.data.submitJob.job.id;
  const last = milestones + 3;
  await t.env.sql.begin(async (sql) => {
    await sql`insert into job_events (job_id, seq, kind, state, progress, attempt)
      values (${id}, 2, 'state', 'RUNNING', 0, 1)`;
    await sql`insert into job_events (job_id, seq, kind, state, progress, message, attempt)
      select ${id}, g, 'progress', 'RUNNING', (g - 2) * 100.0 / ${milestones + 1}, lpad(g::text, ${messageChars}, '.'), 1
      from generate_series(3, ${last - 1}) g`;
    await sql`insert into job_events (job_id, seq, kind, state, progress, attempt, result)
      values (${id}, ${last}, 'state', 'SUCCEEDED', 100, 1, '{"ok":true}')`;
    await sql`update jobs set state = 'SUCCEEDED', attempts = 1, progress = 100, seq = ${last}, seq_reserved = ${last},
      started_at = now(), finished_at = now(), result = '{"ok":true}' where id = ${id}`;
  });
  return { id, last };
}

it('replays 20,000 recorded updates after 0, in order, then completes, without closing the socket', async () => {
  // ~300 bytes a frame: 6 MB in all, more than the socket's 4 MiB cap on unsent data. Exactly 20 pages of
  // 1,000 rows: the last page ends with SUCCEEDED, and the empty read after it ends the stream.
  const { id, last } = await jobWithHistory(19_997, 200);
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
  const { id } = await jobWithHistory(20_000, 4000);
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
