/**
 * A job past its startBy ends at the worker its message reaches, without the API's expiry pass (here it would
 * run only after a minute: RELAY_INTERVAL_MS 60 s): the claim refuses a retry due after the startBy, and the
 * worker fails the job expired and acks its message. A message delivered after the pass expired its job is
 * acked, not copied to the dead letters (an expired job is not a dead letter), and so is one JetStream gave up
 * on (its MAX_DELIVERIES advisory: an older worker nak'ed it until then): removed, not copied. A job whose worker died during
 * an attempt, found past its startBy, is not started again (the claim refuses it): it used to be refused once a
 * second until JetStream gave up on its message and it was dead-lettered as "deliveries exhausted"; the worker
 * its message reaches fails it expired, once no worker says it holds the attempt.
 */
import { expect, it } from 'vitest';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { startExpiry } from '../../src/jobs/expiry.js';
import { handleAdvisory } from '../../src/messaging/dead-letter-recorder.js';
import { markRunning } from '../../src/db/transitions.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { startTestApp, workerSwitch } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { failsFirstAttempt } from '../support/effect-job.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually, inStream, messageSeqOf } from '../support/streams.js';

/** Fails its first attempt, retried 3 s later. */
const { type: retrySoonJob, handler: retrySoonHandler } = failsFirstAttempt('test.retry-soon', 3000);

const f = useFixture(async (later) => {
  const t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, retrySoonJob], handlers: null, config: { RELAY_INTERVAL_MS: '60000' } });
  later(() => t.dispose());
  const workers = workerSwitch(t, [...BUILTIN_HANDLERS, retrySoonHandler]);
  later(() => workers.stop());
  return { t, workers };
});

const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
async function submit(input: Record<string, unknown>): Promise<string> {
  const r = (await gql(f.t.url, SUBMIT, { input })).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  return r.job.id;
}
const row = async (id: string) =>
  (await f.t.env.sql<{ state: string; error: string | null; attempts: number; deadLettered: boolean }[]>`
    select state, error, attempts, dead_lettered_at is not null as "deadLettered" from jobs where id = ${id}`)[0];

/** With no worker running, a job whose startBy passes, FAILED by one expiry pass (its message still in the stream). */
async function expiredByThePass(): Promise<{ id: string; startBy: string }> {
  await f.workers.stop();
  const startBy = inMs(1000);
  const id = await submit({ type: 'demo.noop', startBy });
  await new Promise((r) => setTimeout(r, Date.parse(startBy) - Date.now() + 100));
  const { log, sql, nats, names } = f.t.app.deps;
  const pass = startExpiry({ log, sql, nats, names }, { intervalMs: 60_000 });
  try {
    expect(await pass.runOnce()).toBeGreaterThanOrEqual(1);
  } finally {
    await pass.stop();
  }
  return { id, startBy };
}

it('a retry due after the startBy is not started: the worker its message reaches fails the job expired and acks it', async () => {
  await f.workers.start();
  const startBy = inMs(2000);
  const id = await submit({ type: retrySoonJob.name, startBy });
  await waitForJob(f.t.url, id, (j) => j.state === 'RETRYING');
  const done = await waitForJob(f.t.url, id, (j) => j.state !== 'RETRYING' && j.state !== 'RUNNING', 20_000);
  expect(done).toMatchObject({ state: 'FAILED', error: `expired: not started by ${startBy}`, attempts: 1 });
  expect(done.events.map((e: { state: string }) => e.state)).toEqual(['QUEUED', 'RUNNING', 'RETRYING', 'FAILED']);
  expect(await row(id)).toMatchObject({ deadLettered: false });
  await eventually(async () => !(await inStream(f.t.app.deps, id)), 'its message acked');
}, 60_000);

it('the message of a job the expiry pass ended is acked when a worker gets it, not dead-lettered', async () => {
  const { id, startBy } = await expiredByThePass();
  expect(await row(id)).toEqual({ state: 'FAILED', error: `expired: not started by ${startBy}`, attempts: 0, deadLettered: false });
  expect(await inStream(f.t.app.deps, id)).toBe(true);

  await f.workers.start();
  await eventually(async () => !(await inStream(f.t.app.deps, id)), 'its message taken by a worker');
  expect(await row(id)).toEqual({ state: 'FAILED', error: `expired: not started by ${startBy}`, attempts: 0, deadLettered: false });
}, 60_000);

it('a job whose worker died during an attempt is not started again past its startBy: the worker its message reaches fails it expired', async () => {
  await f.workers.stop();
  const startBy = inMs(1500);
  const id = await submit({ type: 'demo.noop', startBy, maxAttempts: 3 });
  // Its worker claimed it and died: the lease has run out, and no worker holds the attempt.
  expect(await markRunning(f.t.app.deps.sql, { id, series: 1, leaseMs: 1, msgSeq: 0 })).toMatchObject({ state: 'RUNNING', attempts: 1 });
  await new Promise((r) => setTimeout(r, Date.parse(startBy) - Date.now() + 100));

  await f.workers.start(); // its message, still in the stream, reaches a worker
  const done = await waitForJob(f.t.url, id, (j) => j.state !== 'RUNNING', 20_000);
  expect(done).toMatchObject({ state: 'FAILED', error: `expired: not started by ${startBy}`, attempts: 1 });
  expect(await row(id)).toMatchObject({ deadLettered: false });
  await eventually(async () => !(await inStream(f.t.app.deps, id)), 'its message acked');
}, 60_000);

it('the message of an expired job that JetStream gave up on is removed by its advisory, not dead-lettered', async () => {
  const { id, startBy } = await expiredByThePass();
  const { names } = f.t.app.deps;
  const seq = await messageSeqOf(f.t.app.deps, id);
  expect(seq).not.toBeNull();

  // Its deliveries used up (by workers older than startBy, which nak'ed it): the advisory as nats-server raises it.
  const advisory = { type: 'io.nats.jetstream.advisory.v1.max_deliver' as const, stream: names.jobsStream, consumer: names.workerConsumer('demo.noop'), stream_seq: seq!, deliveries: 100 };
  await handleAdvisory(f.t.app.deps, advisory, { ackWaitMs: f.t.config.ACK_WAIT_MS });
  expect(await row(id)).toEqual({ state: 'FAILED', error: `expired: not started by ${startBy}`, attempts: 0, deadLettered: false });
  expect(await inStream(f.t.app.deps, id)).toBe(false);
}, 60_000);
