/**
 * A cancel that lands while the worker's claim of that job is still on its way back: the claim has
 * committed (the job is RUNNING, so cancelJob asks the worker over NATS), but the worker does not hold the
 * job yet when the cancel message arrives. The worker must still abort it at once, not only at its next
 * heartbeat (ACK_WAIT_MS / 3 later: 40 s here).
 *
 * The same with two claims of the job on their way in one worker process: a second copy of its message (the
 * reconciler's, or the first redelivered past AckWait while its claim waits for PostgreSQL) delivered to the
 * same process while the first claim, committed, is still on its way. The first claim wins, the second finds
 * the job taken; the cancel was kept for the later claim alone, so the winner ran until its next heartbeat.
 * And with an earlier attempt still held there (its lease ran out) while a claim of the job, committed, is on
 * its way: the cancel went to the held attempt alone, and the claim took the job over and ran.
 *
 * The worker's PostgreSQL link is slowed (a proxy delays what PostgreSQL sends by 1.5 s), so the claims'
 * answers are in flight long enough for the test to see RUNNING and cancel.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { encode } from '../../src/messaging/messages.js';
import { defineHandler } from '../../workers/handler.js';

const waitJob = defineJobType({ name: 'test.wait', description: 'waits for abort', payload: z.object({}) });
const aborted = new Map<string, string>();
/** Attempts whose handler started, as `<job id>:<attempt>`. */
const started = new Set<string>();
const waitHandler = defineHandler(waitJob, async (_p, ctx) => {
  started.add(`${ctx.jobId}:${ctx.attempt}`);
  await new Promise<void>((resolve) =>
    ctx.signal.addEventListener('abort', () => {
      aborted.set(ctx.jobId, String((ctx.signal.reason as Error).message));
      resolve();
    }),
  );
  return 'stopped';
});

const types = [...BUILTIN_JOB_TYPES, waitJob];
/** `direct`: the API alone; `proxied`: the workers, on PostgreSQL through the proxy (two slots: a copy is pulled too). */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: '120000' } },
  proxied: { types, handlers: [waitHandler], config: { ACK_WAIT_MS: '120000', WORKER_CONCURRENCY: '2' } },
});

const CANCEL = /* GraphQL */ `mutation C($id: ID!) { cancelJob(id: $id) { job { id state } userErrors { code message } } }`;

/** Submits a job with the worker's PostgreSQL link slowed (its answers reach the worker 1.5 s late); answers its id. */
async function submitSlowed(): Promise<string> {
  f.proxy.slow(1500);
  const submitted = await gql(f.direct.url, SUBMIT, { input: { type: 'test.wait', payload: {} } });
  return submitted.body.data.submitJob.job.id as string;
}

/** The job's claim (`attempts` of them) has committed in PostgreSQL; its answer is on its way to the worker. */
const claimed = (id: string, attempts: number) =>
  eventually(async () => (await f.env.sql`select attempts from jobs where id = ${id}`)[0]?.attempts === attempts, 10_000, `claim ${attempts}`);

/** Publishes another copy of the job's message (as the reconciler does); answers its stream sequence. */
async function publishCopy(id: string): Promise<number> {
  const { nats, names } = f.direct.app.deps;
  return (await nats.js.publish(names.jobSubject('test.wait'), encode({ id, type: 'test.wait', series: 1 }), { msgID: `copy-${id}` })).seq;
}

/** Cancels the job; answers it once CANCELLED, which must come well before the first heartbeat (40 s) could tell the worker. */
async function cancel(id: string) {
  const c = await gql(f.direct.url, CANCEL, { id });
  expect(c.body.data.cancelJob.userErrors).toEqual([]);
  const job = await waitForJob(f.direct.url, id, (j) => j.state === 'CANCELLED', 25_000);
  expect(job.finishedAt).not.toBeNull();
  return job;
}

it('a job cancelled while its claim is on the way to the worker is aborted as soon as the worker holds it', async () => {
  const id = await submitSlowed();
  await claimed(id, 1);
  await cancel(id);
  expect(aborted.get(id) ?? 'never started').toMatch(/cancelled|never started/);
});

it('a job cancelled while two claims of it are on their way to one worker is aborted as soon as the winner holds it', async () => {
  const { nats, names } = f.direct.app.deps;
  const id = await submitSlowed();
  await claimed(id, 1);
  // A second copy of the job's message, delivered to the same worker while the first claim's answer is on its
  // way: its claim is on its way too.
  const copy = await publishCopy(id);
  const consumer = names.workerConsumer('test.wait');
  await eventually(async () => (await nats.jsm.consumers.info(names.jobsStream, consumer)).delivered.stream_seq >= copy, 10_000, 'the copy delivered');
  await cancel(id);
  expect(aborted.get(id) ?? 'never started').toMatch(/cancelled|never started/);
});

it('a job cancelled while the worker holds its lost attempt and its new claim is on the way is aborted once the claim lands', async () => {
  const id = await submitSlowed();
  await eventually(() => started.has(`${id}:1`), 15_000, 'attempt 1 runs');
  // Its lease ran out (as after renewals that failed) and a copy of its message comes to the same worker, whose
  // claim (attempt 2) commits; its answer is on its way.
  await f.env.sql`update jobs set lease_until = now() - interval '1 second' where id = ${id}`;
  await publishCopy(id);
  await claimed(id, 2);
  expect(await cancel(id)).toMatchObject({ attempts: 2 });
  expect(started.has(`${id}:2`)).toBe(false); // aborted before its handler began
});
