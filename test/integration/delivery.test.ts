/**
 * Delivery guarantees of the core: a job longer than AckWait is delivered once; a publish that fails after
 * commit (NATS down) is published by the relay later and the job runs once.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { createTestEnv, startTestApp, type TestApp } from '../support/app.js';
import { startPrivateNats, type PrivateNats } from '../setup/services.js';

const cleanup: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanup.reverse()) await c().catch(() => {});
});

const submit = async (t: TestApp, input: Record<string, unknown>) => {
  const r = await gql(t.url, SUBMIT, { input });
  expect(r.body.errors).toBeUndefined();
  return r.body.data.submitJob.job as { id: string; state: string };
};

describe('a job longer than the consumer AckWait', () => {
  it('completes once, with one delivery, because the worker sends in-progress acks', async () => {
    const t = await startTestApp({ config: { ACK_WAIT_MS: '1000' } });
    cleanup.push(() => t.dispose());
    const job = await submit(t, { type: 'demo.sleep', payload: { ms: 3500, steps: 2 } });
    const done = await waitForJob(t.url, job.id, (j) => j.state === 'SUCCEEDED');
    expect(done.attempts).toBe(1);
    expect(done.events.filter((e: any) => e.state === 'RUNNING' && e.message === null)).toHaveLength(1);
    const info = await t.app.deps.nats.jsm.consumers.info(t.app.deps.names.jobsStream, t.app.deps.names.workerConsumer('demo.sleep'));
    expect(info.num_redelivered).toBe(0);
    expect(info.delivered.stream_seq).toBe(info.ack_floor.stream_seq);
  });

  it('keeps its lease while it runs, renewed by the heartbeats alone (no progress reported)', async () => {
    const t = await startTestApp({ config: { ACK_WAIT_MS: '1000' } });
    cleanup.push(() => t.dispose());
    const job = await submit(t, { type: 'demo.sleep', payload: { ms: 4000, steps: 0 } });
    await waitForJob(t.url, job.id, (j) => j.state === 'RUNNING');
    await new Promise((r) => setTimeout(r, 2500)); // past twice the first lease (AckWait)
    const [row] = await t.env.sql<{ state: string; held: boolean }[]>`select state, lease_until > now() as held from jobs where id = ${job.id}`;
    expect(row).toEqual({ state: 'RUNNING', held: true });
    const done = await waitForJob(t.url, job.id, (j) => j.state === 'SUCCEEDED');
    expect(done.attempts).toBe(1);
  });
});

describe('a publish that fails after commit', () => {
  let nats: PrivateNats;
  it('is accepted while NATS is down, published by the relay when it is back, and runs once', async () => {
    nats = await startPrivateNats();
    cleanup.push(() => nats.dispose());
    const env = await createTestEnv({ natsUrl: nats.url });
    cleanup.push(() => env.dispose());
    const t = await startTestApp({ env });
    cleanup.push(() => t.dispose());

    await nats.stop('SIGKILL');
    const job = await submit(t, { type: 'demo.sleep', payload: { ms: 10, steps: 1 } });
    expect(job.state).toBe('QUEUED');
    const [row] = await env.sql`select count(*)::int as n from outbox where job_id = ${job.id} and published_at is null`;
    expect(row!.n).toBe(1);

    await nats.start();
    const done = await waitForJob(t.url, job.id, (j) => j.state === 'SUCCEEDED', 45_000);
    expect(done.attempts).toBe(1);
    expect(done.events.filter((e: any) => e.state === 'SUCCEEDED')).toHaveLength(1);
    const [after] = await env.sql`select count(*)::int as n from outbox where published_at is null`;
    expect(after!.n).toBe(0);
  });
});
