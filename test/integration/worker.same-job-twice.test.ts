/**
 * One process holding the same job twice: attempt 1 still runs here when the job's lease has run out in
 * PostgreSQL (its renewals failed while PostgreSQL was unreachable from this worker) and a new message for the
 * job (the reconciler's) comes to this same process, which claims it: attempt 2. Attempt 1 is no longer the
 * job's: it is aborted (its outcome would be refused anyway), and when it ends it must not take attempt 2's
 * heartbeats and cancel with it: attempt 2 keeps its message and lease (no attempt 3 while it runs) and a
 * cancel still stops it.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { encode } from '../../src/messaging/messages.js';
import { defineHandler, sleep } from '../../workers/handler.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { eventually } from '../support/streams.js';

const twice = defineJobType({ name: 'test.twice', description: 'runs long', payload: z.object({}), maxAttempts: 5, maxDeliver: 5 });
/** Per attempt: how it ended (the signal's reason, or 'returned'). */
const ended = new Map<number, string>();
const started = new Set<number>();
const handler = defineHandler(twice, async (_p, ctx) => {
  started.add(ctx.attempt);
  try {
    await sleep(ctx.attempt === 1 ? 3000 : 60_000, ctx.signal); // attempt 1 would end on its own soon
    ended.set(ctx.attempt, 'returned');
  } catch (e) {
    ended.set(ctx.attempt, (e as Error).message);
    throw e;
  }
});

const its = useFixture(async (later) => {
  const app = await startTestApp({ types: [...BUILTIN_JOB_TYPES, twice], handlers: [handler], config: { ACK_WAIT_MS: '2000', WORKER_CONCURRENCY: '4' } });
  later(() => app.dispose());
  return { app };
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { id state } userErrors { code message } } }`;

it('a job claimed again by the process that still runs its previous attempt keeps one live attempt, which a cancel stops', async () => {
  const { app } = its;
  const { sql } = app.env;
  const { nats, names } = app.app.deps;
  const id = (await gql(app.url, SUBMIT, { input: { type: 'test.twice', payload: {} } })).body.data.submitJob.job.id as string;
  await eventually(() => started.has(1), 'attempt 1 runs');

  // The lease ran out (as after failed renewals) and a second message for the job arrives: this process claims it.
  await sql`update jobs set lease_until = now() - interval '1 second' where id = ${id}`;
  await nats.js.publish(names.jobSubject('test.twice'), encode({ id, type: 'test.twice', series: 1 }), { msgID: `again-${id}` });
  await eventually(() => started.has(2), 'attempt 2 runs');

  // Attempt 1 has ended (its time was up 3 s in) and seven AckWaits have passed: attempt 2 still holds the
  // job, its message and lease kept alive, no attempt 3 started; and attempt 1's message, which stays in the
  // stream, was not nak'ed once per lease until JetStream gave up on it (max-deliver 5) and the dead-letter
  // recorder failed the job as it ran.
  await new Promise((r) => setTimeout(r, 14_000));
  const [row] = await sql`select state, attempts from jobs where id = ${id}`;
  expect(row).toMatchObject({ state: 'RUNNING', attempts: 2 });
  expect([...started]).toEqual([1, 2]);
  // Attempt 1 was not the job's any more: it was aborted as soon as attempt 2 was held.
  expect(ended.get(1)).toBe('job lost');

  const c = await gql(app.url, CANCEL, { id });
  expect(c.body.data.cancelJob.userErrors).toEqual([]);
  expect(await waitForJob(app.url, id, (j) => j.state === 'CANCELLED', 5000)).toMatchObject({ state: 'CANCELLED', attempts: 2 });
  expect(ended.get(2)).toBe('job cancelled');
}, 40_000);
