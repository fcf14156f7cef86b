/**
 * At-least-once delivery with idempotent completion: a message whose job row is missing, or whose job has
 * already finished, is acked and does nothing; a state can never move backwards.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, workerSwitch, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';
import { encode } from '../../src/messaging/messages.js';
import { markRunning, markSucceeded } from '../../src/db/transitions.js';
import { createLogger } from '../../src/log.js';
import { createClaims } from '../../workers/claims.js';
import { createPersister } from '../../workers/persist.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.dispose();
});

const jobsInStream = async () => (await t.app.deps.nats.jsm.streams.info(t.app.deps.names.jobsStream)).state.messages;

it('acks and drops a message whose job row does not exist', async () => {
  const { js, jsm } = t.app.deps.nats;
  const subject = t.app.deps.names.jobSubject('demo.sleep');
  const pa = await js.publish(subject, encode({ id: randomUUID(), type: 'demo.sleep', series: 1 }));
  await eventually(async () => (await jsm.streams.getMessage(t.app.deps.names.jobsStream, { seq: pa.seq })) === null, 'the message is consumed');
  expect(await jobsInStream()).toBe(0);
});

it('a redelivered message for a SUCCEEDED job does not run it again or change it', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0, steps: 1 } } })).body.data.submitJob.job.id;
  const done = await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
  // The same job's message again (as after a crash between the terminal write and the ack).
  const pa = await t.app.deps.nats.js.publish(t.app.deps.names.jobSubject('demo.sleep'), encode({ id, type: 'demo.sleep', series: 1 }), { msgID: `dup-${id}` });
  await eventually(async () => (await t.app.deps.nats.jsm.streams.getMessage(t.app.deps.names.jobsStream, { seq: pa.seq })) === null, 'the duplicate is consumed');
  const after = await waitForJob(t.url, id, () => true);
  expect(after).toEqual(done);
});

it('guarded transitions refuse to move a job backwards or to write for a stale attempt', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0, steps: 1 } } })).body.data.submitJob.job.id;
  const done = await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
  const sql = t.app.deps.sql;
  expect(await markRunning(sql, { id, series: 1, leaseMs: 1000, msgSeq: 1 })).toBeNull();
  expect(await markSucceeded(sql, { id, attempt: 1, series: 1, lastSeq: 999, result: 'overwritten', progressMessage: null })).toBeNull();
  expect(await waitForJob(t.url, id, () => true)).toEqual(done);
});

/** A series past PostgreSQL's int4, which the claim statement compares with the job's. */
const TOO_BIG_SERIES = 2 ** 31;

it('acks and drops a message whose series PostgreSQL cannot hold, and the job claimed beside it runs', async () => {
  // A minute's AckWait: a good job failed with the bad message's claim would wait that long to come back.
  const s = await startTestApp({ handlers: null, config: { ACK_WAIT_MS: '60000' } });
  const workers = workerSwitch(s);
  try {
    const { js, jsm } = s.app.deps.nats;
    const pa = await js.publish(s.app.deps.names.jobSubject('demo.noop'), encode({ id: randomUUID(), type: 'demo.noop', series: TOO_BIG_SERIES }));
    const id = (await gql(s.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id;
    await eventually(async () => (await jsm.streams.info(s.app.deps.names.jobsStream)).state.messages === 2, 'both messages are in the stream');
    await workers.start(); // one fetch takes both: their claims go as one statement
    expect(await waitForJob(s.url, id, (j) => j.state === 'SUCCEEDED', 20_000)).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
    await eventually(async () => (await jsm.streams.getMessage(s.app.deps.names.jobsStream, { seq: pa.seq })) === null, 'the bad message is consumed');
  } finally {
    await workers.stop();
    await s.dispose();
  }
});

it('a claim PostgreSQL refuses as data fails alone, not the claims written in the same statement', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0, steps: 1 } } })).body.data.submitJob.job.id;
  await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
  const other = randomUUID();
  const { persist } = createPersister(createLogger('silent'));
  const claim = createClaims({ ...t.app.deps, persist });
  const [bad, good] = await Promise.allSettled([
    claim({ id: other, series: TOO_BIG_SERIES, leaseMs: 1000, msgSeq: 1, token: randomUUID() }),
    claim({ id, series: 1, leaseMs: 1000, msgSeq: 1, token: randomUUID() }),
  ]);
  expect(bad).toMatchObject({ status: 'rejected', reason: { code: '22003' } });
  expect(good).toEqual({ status: 'fulfilled', value: null }); // answered: the job finished, not this claim's to run
});
