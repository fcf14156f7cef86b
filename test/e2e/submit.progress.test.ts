/**
 * The whole arrow: submitJob over HTTP → PostgreSQL + JetStream → worker → progress over graphql-ws.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { collect, gql, JOB, PROGRESS, SUBMIT, waitForJob, wsClient } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.dispose();
});

async function submit(input: Record<string, unknown>) {
  const r = await gql(t.url, SUBMIT, { input });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.submitJob;
}

describe('submit → worker → live progress', () => {
  it('answers QUEUED at once, then streams snapshot, ordered progress and SUCCEEDED with its result', async () => {
    const { job, userErrors } = await submit({ type: 'demo.sleep', payload: { ms: 800, steps: 4 } });
    expect(userErrors).toEqual([]);
    expect(job.state).toBe('QUEUED');
    expect(job.attempts).toBe(0);

    const client = wsClient(t.wsUrl);
    const { values, errors } = await collect(client, PROGRESS, { id: job.id });
    await client.dispose();
    expect(errors).toEqual([]);

    // The first value is a snapshot of where the job was when the subscription started.
    expect(values[0].jobId).toBe(job.id);
    const seqs = values.map((v) => v.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const progress = values.filter((v) => v.state === 'RUNNING').map((v) => v.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress).toContain(100);
    const last = values.at(-1);
    expect(last.state).toBe('SUCCEEDED');
    expect(last.result).toEqual({ slept: 800, steps: 4 });

    const polled = (await gql(t.url, JOB, { id: job.id })).body.data.job;
    expect(polled).toMatchObject({ state: 'SUCCEEDED', progress: 100, attempts: 1, result: { slept: 800, steps: 4 } });
    expect(polled.finishedAt).not.toBeNull();
    expect(polled.events.map((e: any) => e.state)).toEqual(expect.arrayContaining(['QUEUED', 'RUNNING', 'SUCCEEDED']));
    expect(polled.events.at(-1).seq).toBe(last.seq);
  });

  it('gives two subscribers to one job every update', async () => {
    const { job } = await submit({ type: 'demo.sleep', payload: { ms: 1000, steps: 5 } });
    const a = wsClient(t.wsUrl);
    const b = wsClient(t.wsUrl);
    const [ra, rb] = await Promise.all([collect(a, PROGRESS, { id: job.id }), collect(b, PROGRESS, { id: job.id })]);
    await Promise.all([a.dispose(), b.dispose()]);
    const tail = (vs: any[]) => vs.filter((v) => v.seq > Math.max(ra.values[0].seq, rb.values[0].seq)).map((v) => [v.seq, v.state, v.progress]);
    expect(tail(ra.values)).toEqual(tail(rb.values));
    expect(ra.values.filter((v) => v.state === 'RUNNING' && v.progress > 0).length).toBeGreaterThanOrEqual(4);
    expect(ra.values.at(-1).state).toBe('SUCCEEDED');
    expect(rb.values.at(-1).state).toBe('SUCCEEDED');
  });

  it('resumes with `after`: every recorded change after that seq, no duplicate, no gap', async () => {
    const { job } = await submit({ type: 'demo.sleep', payload: { ms: 1500, steps: 3 } });
    const first = wsClient(t.wsUrl);
    // Drop the first subscription after its second value.
    const seen: any[] = [];
    for await (const r of first.iterate({ query: PROGRESS, variables: { id: job.id } })) {
      seen.push((r.data as any).jobProgress);
      if (seen.length === 2) break;
    }
    await first.dispose();
    const resumeAt = seen.at(-1).seq;

    const second = wsClient(t.wsUrl);
    const { values } = await collect(second, PROGRESS, { id: job.id, after: resumeAt });
    await second.dispose();
    expect(values.length).toBeGreaterThan(0);
    expect(values[0].seq).toBeGreaterThan(resumeAt);
    expect(values.at(-1).state).toBe('SUCCEEDED');

    // Everything PostgreSQL recorded after `resumeAt` was delivered, in order, once.
    const events = (await gql(t.url, JOB, { id: job.id })).body.data.job.events;
    const recorded = events.filter((e: any) => e.seq > resumeAt).map((e: any) => e.seq);
    const delivered = values.map((v) => v.seq);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered.filter((s) => recorded.includes(s))).toEqual(recorded);
  });

  it('replays a finished job from `after: 0` and completes', async () => {
    const { job } = await submit({ type: 'demo.sleep', payload: { ms: 0, steps: 2 } });
    await waitForJob(t.url, job.id, (j) => j.state === 'SUCCEEDED');
    const client = wsClient(t.wsUrl);
    const { values } = await collect(client, PROGRESS, { id: job.id, after: 0 });
    await client.dispose();
    expect(values[0]).toMatchObject({ seq: 1, state: 'QUEUED' });
    expect(values.at(-1)).toMatchObject({ state: 'SUCCEEDED', result: { slept: 0, steps: 2 } });
  });

  it('answers NOT_FOUND for an unknown job id', async () => {
    const client = wsClient(t.wsUrl);
    const r = await collect(client, PROGRESS, { id: '00000000-0000-4000-8000-000000000000' });
    await client.dispose();
    expect(r.values).toEqual([]);
    expect((r.errors[0] as any).extensions.code).toBe('NOT_FOUND');
  });

  it('runs the realistic handler: SHA-256 over generated data, in chunks with progress', async () => {
    const { job } = await submit({ type: 'demo.hash', payload: { mib: 8, seed: 'abc' } });
    const client = wsClient(t.wsUrl);
    const { values } = await collect(client, PROGRESS, { id: job.id });
    await client.dispose();
    expect(values.filter((v) => v.state === 'RUNNING' && v.message?.endsWith('MiB')).length).toBeGreaterThan(1);
    const done = values.at(-1);
    expect(done.state).toBe('SUCCEEDED');
    expect(done.result.bytes).toBe(8 * 1024 * 1024);
    expect(done.result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
