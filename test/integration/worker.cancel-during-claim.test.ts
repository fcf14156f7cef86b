/**
 * A cancel that lands while the worker's claim of that job is still on its way back: the claim has
 * committed (the job is RUNNING, so cancelJob asks the worker over NATS), but the worker does not hold the
 * job yet when the cancel message arrives. The worker must still abort it at once, not only at its next
 * heartbeat (ACK_WAIT_MS / 3 later: 40 s here).
 *
 * The worker's PostgreSQL link is slowed (a proxy delays what PostgreSQL sends by 1.5 s), so the claim's
 * answer is in flight long enough for the test to see RUNNING and cancel.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const waitJob = defineJobType({ name: 'test.wait', description: 'waits for abort', payload: z.object({}) });
const aborted = new Map<string, string>();
const waitHandler = defineHandler(waitJob, async (_p, ctx) => {
  await new Promise<void>((resolve) =>
    ctx.signal.addEventListener('abort', () => {
      aborted.set(ctx.jobId, String((ctx.signal.reason as Error).message));
      resolve();
    }),
  );
  return 'stopped';
});

const types = [...BUILTIN_JOB_TYPES, waitJob];
/** `direct`: the API alone; `proxied`: the workers, on PostgreSQL through the proxy. */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: '120000' } },
  proxied: { types, handlers: [waitHandler], config: { ACK_WAIT_MS: '120000', WORKER_CONCURRENCY: '1' } },
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { id state } userErrors { code message } } }`;

it('a job cancelled while its claim is on the way to the worker is aborted as soon as the worker holds it', async () => {
  const { env, proxy, direct: api } = f;
  proxy.slow(1500);
  const submitted = await gql(api.url, SUBMIT, { input: { type: 'test.wait', payload: {} } });
  const id = submitted.body.data.submitJob.job.id as string;
  // The claim has committed; its answer reaches the worker 1.5 s later.
  await eventually(async () => (await env.sql`select state from jobs where id = ${id}`)[0]?.state === 'RUNNING', 10_000, 'the claim');
  const c = await gql(api.url, CANCEL, { id });
  expect(c.body.data.cancelJob.userErrors).toEqual([]);

  // Well before the first heartbeat (40 s) could tell the worker.
  const job = await waitForJob(api.url, id, (j) => j.state === 'CANCELLED', 25_000);
  expect(job.finishedAt).not.toBeNull();
  expect(aborted.get(id) ?? 'never started').toMatch(/cancelled|never started/);
});
