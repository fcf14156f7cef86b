/**
 * A copy the reconciler queued for a job whose holder then kept it: the holder's lease ran out in PostgreSQL
 * (its renewals failed for a while), the reconciler queued a fresh message (which sets the row's msg_seq to
 * null until a claim records the new one), and the holder's next renewal took the lease back before the copy
 * was claimed. Each delivery of the copy then finds the job RUNNING under a live lease with no msg_seq: it
 * must be dropped, not nak'ed once per lease until JetStream gives up on it (max-deliver) and the dead-letter
 * recorder fails the job as it runs.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { requeueMessage } from '../../src/db/stale-jobs.js';
import { getJob } from '../../src/db/jobs.js';
import { defineHandler, sleep } from '../../workers/handler.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { eventually } from '../support/streams.js';

const kept = defineJobType({ name: 'test.kept', description: 'runs long', payload: z.object({}), maxAttempts: 5, maxDeliver: 5 });
const started = new Set<number>();
const handler = defineHandler(kept, async (_p, ctx) => {
  started.add(ctx.attempt);
  await sleep(60_000, ctx.signal);
});

const its = useFixture(async (later) => {
  const app = await startTestApp({ types: [...BUILTIN_JOB_TYPES, kept], handlers: [handler], config: { ACK_WAIT_MS: '2000', WORKER_CONCURRENCY: '4' } });
  later(() => app.dispose());
  return { app };
});

it('a reconciler copy of a job its holder kept is dropped, and the job goes on running', async () => {
  const { app } = its;
  const { sql } = app.env;
  const deps = app.app.deps;
  const id = (await gql(app.url, SUBMIT, { input: { type: 'test.kept', payload: {} } })).body.data.submitJob.job.id as string;
  await eventually(() => started.has(1), 'attempt 1 runs');

  // The reconciler's requeue (its statement, and the relay publishing the entry); the holder's renewals keep
  // the lease live meanwhile, as once they get through again.
  const job = (await getJob(sql as never, id))!;
  const entry = await requeueMessage(sql as never, job, deps.names.jobSubject('test.kept'));
  deps.relay.publishSoon([entry]);
  await eventually(async () => (await sql`select published_at from outbox where id = ${entry.id}`)[0]?.published_at != null, 'the copy is published');

  // Seven AckWaits (leases): the copy would have been delivered max-deliver (5) times by now.
  await new Promise((r) => setTimeout(r, 14_000));
  const [row] = await sql`select state, attempts, error from jobs where id = ${id}`;
  expect(row).toMatchObject({ state: 'RUNNING', attempts: 1, error: null });
  expect([...started]).toEqual([1]);
}, 40_000);
