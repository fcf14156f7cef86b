/**
 * A claim that committed but whose answer the worker never got (its PostgreSQL link dropped right after), and
 * then an outage of the worker's PostgreSQL longer than the lease and twice AckWait: the dead-letter sweep
 * (in the API, which reaches PostgreSQL) finds the job RUNNING with its lease run out and asks the workers
 * whether one holds it. The worker, whose claim is still being retried, answers it does; once PostgreSQL
 * is back, the retried claim finds its own by its token (rather than claiming again, which would succeed
 * now that the lease has run out, and use up another attempt) and runs the job.
 *
 * Before, the worker answered only for attempts it held: the sweep failed the job, "worker lost during the
 * last attempt", and the handler never ran (maxAttempts 1).
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const ACK_WAIT_MS = 2000;
const onceJob = defineJobType({ name: 'test.once', description: 'runs once', payload: z.object({}), maxAttempts: 1 });
const twiceJob = defineJobType({ name: 'test.twice', description: 'two attempts', payload: z.object({}), maxAttempts: 2 });
/** Attempts whose handler ran, as `<job id>:<attempt>`. */
const ran: string[] = [];
const run = async (_p: unknown, ctx: { jobId: string; attempt: number }) => {
  ran.push(`${ctx.jobId}:${ctx.attempt}`);
  return 'ran';
};
const handlers = [defineHandler(onceJob, run), defineHandler(twiceJob, run)];
const types = [...BUILTIN_JOB_TYPES, onceJob, twiceJob];
/** `direct`: the API alone (and its dead-letter sweep); `proxied`: the worker, on PostgreSQL through the proxy. */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: String(ACK_WAIT_MS) } },
  proxied: { types, handlers, config: { ACK_WAIT_MS: String(ACK_WAIT_MS), WORKER_CONCURRENCY: '1' } },
});

/** Submits a job of `type` whose claim commits with its answer lost, then keeps the worker from PostgreSQL 12 s. */
async function claimThenOutage(type: string) {
  f.proxy.slow(1500); // the claim's answer is on its way for 1.5 s: the test cuts the link meanwhile
  const submitted = await gql(f.direct.url, SUBMIT, { input: { type, payload: {} } });
  const id = submitted.body.data.submitJob.job.id as string;
  await eventually(async () => (await f.env.sql`select state from jobs where id = ${id}`)[0]?.state === 'RUNNING', 10_000, 'claim committed');
  const reopen = f.proxy.hold();
  f.proxy.slow(0);
  try {
    await new Promise((r) => setTimeout(r, 12_000)); // past the lease (AckWait) and the sweep's 2 × AckWait
  } finally {
    reopen();
  }
  return eventually(async () => {
    const [row] = await f.env.sql<{ state: string; attempts: number; error: string | null }[]>`select state, attempts, error from jobs where id = ${id}`;
    return row!.state === 'RUNNING' ? undefined : { id, ...row! };
  }, 40_000, 'the job ends');
}

it('a job whose claim lost its answer runs once the worker’s PostgreSQL is back, not failed by the sweep', async () => {
  const job = await claimThenOutage('test.once');
  expect({ state: job.state, attempts: job.attempts, error: job.error }).toEqual({ state: 'SUCCEEDED', attempts: 1, error: null });
  expect(ran.filter((r) => r.startsWith(job.id))).toEqual([`${job.id}:1`]);
}, 90_000);

it('with attempts left, it runs as the attempt its claim took, not as a second one', async () => {
  const job = await claimThenOutage('test.twice');
  expect({ state: job.state, attempts: job.attempts }).toEqual({ state: 'SUCCEEDED', attempts: 1 });
  expect(ran.filter((r) => r.startsWith(job.id))).toEqual([`${job.id}:1`]);
}, 90_000);
