/**
 * A worker alive but cut off from PostgreSQL runs a job: it cannot renew the lease, which runs out, but it runs
 * on and writes the outcome once PostgreSQL answers it again. `cancelJob` took a RUNNING job under a lease
 * that ran out for a dead worker's and made it CANCELLED at once, without telling the worker: its handler ran
 * on, and its success was refused (the job said CANCELLED though its work was done). The cancel now asks the
 * workers first, as the dead-letter sweep does: the one that still holds the attempt is told to stop it, and
 * the job ends CANCELLED once it has. A dead worker's job is still CANCELLED at once (no worker answers).
 *
 * The worker reaches PostgreSQL through a proxy the test holds shut for longer than the lease (AckWait, 2 s).
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { spawnWorker } from '../support/processes.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const longJob = defineJobType({ name: 'test.long', description: 'runs 20 s unless aborted', payload: z.object({}) });
/** How each attempt's handler ended, by `<job id>:<attempt>`: 'aborted' or 'finished'. */
const ended = new Map<string, string>();
const started = new Set<string>();
const longHandler = defineHandler(longJob, async (_p, ctx) => {
  started.add(`${ctx.jobId}:${ctx.attempt}`);
  for (let waited = 0; waited < 20_000; waited += 50) {
    if (ctx.signal.aborted) {
      ended.set(`${ctx.jobId}:${ctx.attempt}`, 'aborted');
      throw ctx.signal.reason;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  ended.set(`${ctx.jobId}:${ctx.attempt}`, 'finished');
  return 'done';
});

const types = [...BUILTIN_JOB_TYPES, longJob];
const config = { ACK_WAIT_MS: '2000' };
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config },
  proxied: { types, handlers: [longHandler], config: { ...config, WORKER_CONCURRENCY: '1' } },
});

const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;

async function submitRunning(): Promise<string> {
  const submitted = await gql(f.direct.url, SUBMIT, { input: { type: 'test.long', payload: {} } });
  expect(submitted.body.errors).toBeUndefined();
  const id = submitted.body.data.submitJob.job.id as string;
  await eventually(async () => (started.has(`${id}:1`) ? true : undefined), 20_000, 'the worker runs the job');
  return id;
}

const lapsed = (id: string) => async () =>
  (await f.env.sql`select 1 from jobs where id = ${id} and state = 'RUNNING' and lease_until < now()`).length ? true : undefined;

it('cancelling a job whose lease ran out while its live worker is cut off from PostgreSQL stops the handler, then ends CANCELLED', async () => {
  const { proxy, direct: api } = f;
  const id = await submitRunning();
  const reopen = proxy.hold();
  try {
    await eventually(lapsed(id), 20_000, 'the lease ran out');
    const answer = (await gql(api.url, CANCEL, { id })).body.data.cancelJob;
    // Its worker holds it: asked to stop, not cancelled behind its back.
    expect(answer).toEqual({ job: { state: 'RUNNING' }, userErrors: [] });
    await eventually(async () => (ended.has(`${id}:1`) ? true : undefined), 10_000, 'the handler ends');
    expect(ended.get(`${id}:1`)).toBe('aborted');
  } finally {
    reopen();
  }
  const job = await waitForJob(api.url, id, (j) => j.state !== 'RUNNING', 30_000);
  expect(job).toMatchObject({ state: 'CANCELLED', attempts: 1 });
}, 90_000);

it('cancelling a job whose worker died is still CANCELLED at once', async () => {
  const { env, direct: api } = f;
  const worker = await spawnWorker({ ...env.env, ...config, SHUTDOWN_GRACE_MS: '0' });
  try {
    const submitted = await gql(api.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 60_000, steps: 0 } } });
    const id = submitted.body.data.submitJob.job.id as string;
    await waitForJob(api.url, id, (j) => j.state === 'RUNNING');
    await worker.kill('SIGKILL'); // no hand-back: its lease runs out, and no worker holds the attempt
    await eventually(lapsed(id), 20_000, 'the lease ran out');
    const answer = (await gql(api.url, CANCEL, { id })).body.data.cancelJob;
    expect(answer).toEqual({ job: { state: 'CANCELLED' }, userErrors: [] });
  } finally {
    await worker.kill('SIGKILL');
  }
}, 90_000);
