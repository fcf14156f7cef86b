/**
 * Dead letters found from JetStream's own MAX_DELIVERIES advisory: deliveries that never reached a claim
 * (a worker that crashes before claiming, say) still count, and when the consumer's max-deliver is used up
 * the recorder copies the original message (headers kept), removes it from the work queue and fails the job.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';

/** A type nobody handles in this app, with a small max-deliver. */
const poison = defineJobType({ name: 'test.poison', description: 'never handled', payload: z.object({}), maxAttempts: 3, maxDeliver: 3 });

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, poison], handlers: BUILTIN_HANDLERS });
});
afterAll(async () => {
  await t?.dispose();
});

it('copies, removes and fails a message whose deliveries ran out', async () => {
  const { nats, names } = t.app.deps;
  const id = (await gql(t.url, SUBMIT, { input: { type: 'test.poison', payload: { x: 1 } } })).body.data.submitJob.job.id;
  const consumer = await nats.js.consumers.get(names.jobsStream, names.workerConsumer('test.poison'));

  // Three deliveries, each nak'ed before any claim (as a crashing worker would leave them).
  let deliveries = 0;
  while (deliveries < 3) {
    const m = await consumer.next({ expires: 5000 });
    if (!m) continue;
    expect(m.json<{ id: string }>().id).toBe(id);
    deliveries++;
    m.nak();
  }
  // On nats-server 2.9 the advisory is raised when the consumer next tries to deliver: keep a pull waiting.
  const waiting = consumer.next({ expires: 3000 });

  const job = await waitForJob(t.url, id, (j) => j.state === 'FAILED');
  expect(await waiting).toBeNull();
  expect(job.error).toBe('deliveries exhausted after 3 deliveries');
  expect(job.attempts).toBe(0);

  const info = await nats.jsm.streams.info(names.jobsStream, { subjects_filter: names.jobSubject('test.poison') });
  expect(info.state.subjects?.[names.jobSubject('test.poison')] ?? 0).toBe(0);
  const copy = await nats.jsm.streams.getMessage(names.deadLetterStream, { last_by_subj: names.deadLetterSubject('test.poison') });
  expect(copy?.json<{ id: string }>()).toMatchObject({ id, type: 'test.poison' });
  expect(copy?.header.get('Longrun-Job-Id')).toBe(id);
  const dl = (await gql(t.url, `{ deadLetters(first: 5, type: "test.poison") { totalCount edges { node { id state } } } }`)).body.data.deadLetters;
  expect(dl).toEqual({ totalCount: 1, edges: [{ node: { id, state: 'FAILED' } }] });
});
