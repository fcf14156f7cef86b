/**
 * Cancellation: a queued job never runs; a running job's handler sees ctx.signal abort and the job ends
 * CANCELLED; a finished job answers INVALID_STATE.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

/** Runs until aborted, reporting progress; records what its signal said. */
const waitJob = defineJobType({ name: 'test.wait', description: 'waits for abort', payload: z.object({}) });
const seen = new Map<string, { started: number; abortedAt?: number; reason?: string }>();
const waitHandler = defineHandler(waitJob, async (_p, ctx) => {
  const entry: { started: number; abortedAt?: number; reason?: string } = { started: Date.now() };
  seen.set(ctx.jobId, entry);
  ctx.progress(10, 'waiting');
  await new Promise<void>((resolve) =>
    ctx.signal.addEventListener('abort', () => {
      entry.abortedAt = Date.now();
      entry.reason = String((ctx.signal.reason as Error).message);
      resolve();
    }),
  );
  return 'stopped';
});

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, waitJob],
    handlers: [waitHandler],
    config: { WORKER_CONCURRENCY: '1' },
  });
});
afterAll(async () => {
  await t?.dispose();
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { id state } userErrors { code field message } } }`;
const submit = async (input: Record<string, unknown>) => (await gql(t.url, SUBMIT, { input })).body.data.submitJob.job.id as string;
const cancel = async (id: string) => (await gql(t.url, CANCEL, { id })).body.data.cancelJob;

describe('cancelJob', () => {
  it('cancels a running job: its handler observes the abort, the job ends CANCELLED', async () => {
    const running = await submit({ type: 'test.wait', payload: {} });
    await waitForJob(t.url, running, (j) => j.state === 'RUNNING' && j.progress === 10);
    // With concurrency 1, this one waits in the queue behind it.
    const queued = await submit({ type: 'test.wait', payload: {} });

    const q = await cancel(queued);
    expect(q.userErrors).toEqual([]);
    expect(q.job.state).toBe('CANCELLED');

    const r = await cancel(running);
    expect(r.userErrors).toEqual([]);
    const done = await waitForJob(t.url, running, (j) => j.state === 'CANCELLED', 5000);
    const handler = seen.get(running)!;
    expect(handler.reason).toBe('job cancelled');
    expect(handler.abortedAt).toBeDefined();
    expect(done.finishedAt).not.toBeNull();

    // The cancelled queued job is delivered to the now free worker and acked without running.
    await new Promise((res) => setTimeout(res, 1000));
    const q2 = await waitForJob(t.url, queued, () => true);
    expect(q2.state).toBe('CANCELLED');
    expect(q2.attempts).toBe(0);
    expect(q2.events.map((e: any) => e.state)).not.toContain('RUNNING');
    expect(seen.has(queued)).toBe(false);
    expect(await countMessages()).toBe(0);
  });

  it('a finished job answers INVALID_STATE and stays as it was', async () => {
    const id = await submit({ type: 'test.wait', payload: {} });
    await waitForJob(t.url, id, (j) => j.state === 'RUNNING');
    await cancel(id);
    await waitForJob(t.url, id, (j) => j.state === 'CANCELLED');
    const again = await cancel(id);
    expect(again.userErrors[0]).toMatchObject({ code: 'INVALID_STATE' });
    expect(again.job.state).toBe('CANCELLED');
  });

  it('an unknown id is NOT_FOUND', async () => {
    const r = await gql(t.url, CANCEL, { id: '00000000-0000-4000-8000-000000000000' });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});

async function countMessages(): Promise<number> {
  const info = await t.app.deps.nats.jsm.streams.info(t.app.deps.names.jobsStream);
  return info.state.messages;
}
