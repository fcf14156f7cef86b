/**
 * A job delivered to a worker cut off from PostgreSQL: its claim cannot be written, and is retried until
 * PostgreSQL answers again. Meanwhile the worker keeps the message with in-progress acks, as it does for the
 * jobs it runs. Without them JetStream redelivers the message every AckWait, each delivery counting against
 * the type's max-deliver; an outage longer than max-deliver × AckWait then dead-letters the job (FAILED)
 * without it ever running.
 *
 * Here max-deliver is 3 and AckWait 1 s, and the worker's PostgreSQL is out of reach for 6 s after the job's
 * message reached it: its link down, or the server refusing connections (too many clients), an error the
 * worker's retries did not know.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { postgresError } from '../support/proxy.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const keptJob = defineJobType({ name: 'test.kept', description: 'runs once', payload: z.object({}), maxAttempts: 1, maxDeliver: 3 });
/** Attempts whose handler ran, as `<job id>:<attempt>`. */
const ran: string[] = [];
const keptHandler = defineHandler(keptJob, async (_p, ctx) => {
  ran.push(`${ctx.jobId}:${ctx.attempt}`);
  return 'done';
});

const types = [...BUILTIN_JOB_TYPES, keptJob];
/** `direct`: the API alone; `proxied`: the worker, on PostgreSQL through the proxy. */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: '1000' } },
  proxied: { types, handlers: [keptHandler], config: { ACK_WAIT_MS: '1000' } },
});

/** Submits a job while `outage` keeps the worker from PostgreSQL, for 6 s after its message reached the worker. */
async function submitThrough(outage: () => () => void) {
  const { nats, names } = f.direct.app.deps;
  const release = outage();
  let held = true;
  try {
    const submitted = await gql(f.direct.url, SUBMIT, { input: { type: 'test.kept', payload: {} } });
    expect(submitted.body.errors).toBeUndefined();
    const id = submitted.body.data.submitJob.job.id as string;
    const consumer = names.workerConsumer('test.kept');
    await eventually(async () => (await nats.jsm.consumers.info(names.jobsStream, consumer)).num_ack_pending === 1, 10_000, 'delivered to the worker');
    await new Promise((r) => setTimeout(r, 6000)); // past max-deliver × AckWait
    release();
    held = false;

    const job = await waitForJob(f.direct.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED', 30_000);
    expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
    expect(ran.filter((r) => r.startsWith(id))).toEqual([`${id}:1`]);
  } finally {
    if (held) release();
  }
}

it('a job whose claim waits out a PostgreSQL outage runs once it is back, not dead-lettered unrun', async () => {
  await submitThrough(() => f.proxy.hold());
}, 60_000);

it('so does one whose claim waits while PostgreSQL refuses connections (too many clients)', async () => {
  await submitThrough(() => f.proxy.refuse(postgresError('53300', 'sorry, too many clients already')));
}, 60_000);
