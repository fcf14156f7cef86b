/**
 * ACK_WAIT_MS lowered in a rolling upgrade: the upgraded process that starts sets the job types' consumers
 * to the new, shorter AckWait while workers of the old configuration still run jobs with in-progress acks
 * a third of the old AckWait apart. Those workers follow the consumer's AckWait: a running job is not
 * redelivered again and again until JetStream gives up on it and it is dead-lettered while it runs.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler, sleep } from '../../workers/handler.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { createTestEnv, startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';

/** Few deliveries, so that repeated redeliveries of a running job show within seconds. */
const long = defineJobType({ name: 'test.long', description: 'runs 14 s', payload: z.object({}), maxAttempts: 1, maxDeliver: 3 });
const types = [...BUILTIN_JOB_TYPES, long];

const f = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  // The old configuration: AckWait 9 s, in-progress acks every 3 s.
  const old = await startTestApp({ env, types, handlers: [defineHandler(long, (_p, ctx) => sleep(14_000, ctx.signal).then(() => 'done'))], config: { ACK_WAIT_MS: '9000' } });
  later(() => old.dispose());
  return { env, old };
});

it('runs a job to its end on a worker of the old AckWait after a process with a shorter one started', async () => {
  const sub = await gql(f.old.url, SUBMIT, { input: { type: 'test.long', payload: {} } });
  const id = sub.body.data.submitJob.job.id as string;
  await waitForJob(f.old.url, id, (j) => j.state === 'RUNNING', 10_000);

  // The upgraded API (no workers here) starts with ACK_WAIT_MS=1000: the consumer's AckWait is 1 s now.
  const upgraded = await startTestApp({ env: f.env, types, handlers: null, config: { ACK_WAIT_MS: '1000' } });
  try {
    const info = await upgraded.app.deps.nats.jsm.consumers.info(upgraded.app.deps.names.jobsStream, upgraded.app.deps.names.workerConsumer('test.long'));
    expect(info.config.ack_wait).toBe(1000 * 1e6);

    const done = await waitForJob(upgraded.url, id, (j) => ['SUCCEEDED', 'FAILED'].includes(j.state), 30_000);
    expect({ state: done.state, error: done.error, result: done.result, attempts: done.attempts }).toEqual({
      state: 'SUCCEEDED',
      error: null,
      result: 'done',
      attempts: 1,
    });
  } finally {
    await upgraded.dispose();
  }
});
