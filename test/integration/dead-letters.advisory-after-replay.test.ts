/**
 * A MAX_DELIVERIES advisory handled again after its job was dead-lettered and then replayed with `retryJob`:
 * the recorder copied the message, removed it from the work queue and failed the job, then stopped before
 * acking the advisory (a crash, a lost ack), and JetStream gave the advisory again 30 s later (the advisory
 * consumer's AckWait), by which time an operator had replayed the job. The advisory is about the old attempt
 * series' message, which is gone: it must leave the replayed job alone (QUEUED, to run), not fail it with
 * "deliveries exhausted" before it ever runs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { handleAdvisory } from '../../src/messaging/dead-letter-recorder.js';
import { poisonJob } from '../support/effect-job.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, poisonJob], handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const RETRY = /* GraphQL */ `mutation R($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`;

it('leaves a replayed job QUEUED when the old series\' max-deliveries advisory comes again', async () => {
  const { nats, names } = t.app.deps;
  const id = (await gql(t.url, SUBMIT, { input: { type: 'test.poison', payload: {} } })).body.data.submitJob.job.id as string;
  const consumer = await nats.js.consumers.get(names.jobsStream, names.workerConsumer('test.poison'));
  let streamSeq = 0;
  for (let deliveries = 0; deliveries < 3; ) {
    const m = await consumer.next({ expires: 5000 });
    if (!m) continue;
    streamSeq = m.seq;
    deliveries++;
    m.nak();
  }
  const waiting = consumer.next({ expires: 3000 }); // 2.9: the advisory needs a pull waiting
  await waitForJob(t.url, id, (j) => j.state === 'FAILED' && j.error !== null);
  await waiting;
  const listed = async () => (await gql(t.url, `{ deadLetters(first: 10) { totalCount } }`)).body.data.deadLetters.totalCount as number;
  for (let i = 0; i < 100 && (await listed()) === 0; i++) await new Promise((r) => setTimeout(r, 100));
  expect(await listed()).toBe(1);

  expect((await gql(t.url, RETRY, { id })).body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });

  // The same advisory again: its message (the first series') was removed from the work queue by the first go.
  await handleAdvisory(t.app.deps, {
    type: 'io.nats.jetstream.advisory.v1.max_deliver',
    stream: names.jobsStream,
    consumer: names.workerConsumer('test.poison'),
    stream_seq: streamSeq,
    deliveries: 3,
  }, { ackWaitMs: t.config.ACK_WAIT_MS });

  const job = (await gql(t.url, `query($id: ID!) { job(id: $id) { state attempts error } }`, { id })).body.data.job;
  expect(job).toEqual({ state: 'QUEUED', attempts: 0, error: null });
  expect(await listed()).toBe(0);
});
