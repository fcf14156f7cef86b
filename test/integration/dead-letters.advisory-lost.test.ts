/**
 * A message whose deliveries ran out while its MAX_DELIVERIES advisory could not be stored (here: the advisory
 * stream, its subjects changed for a moment, does not take it; in life: deleted, purged, or unable to store it
 * then). JetStream keeps such a message in the work queue and never delivers it again, so the job waited
 * QUEUED for good: nothing failed it or gave it another message. The reconciler now tells it from a message
 * still to be delivered again (the type's consumer delivered it and holds nothing pending) and handles it as
 * its advisory would have been: FAILED, copied to the dead letters, removed from the work queue. A message
 * that is pending (nak'ed with a delay: a worker's hand-back, a retry's backoff) is left to come again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/receivers.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { poisonJob } from '../support/effect-job.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, poisonJob], handlers: null, config: { RECONCILE_AFTER_MS: '1000' } });
});
afterAll(async () => {
  await t?.dispose();
});

const submit = async (type: string) => (await gql(t.url, SUBMIT, { input: { type, payload: {} } })).body.data.submitJob.job.id as string;

/** Sets the advisory stream's subjects (an empty list: one nothing is published on). */
async function advisorySubjects(subjects: string[] | null) {
  const { nats, names } = t.app.deps;
  const { config } = await nats.jsm.streams.info(names.advisoryStream);
  await nats.jsm.streams.update(names.advisoryStream, { ...config, subjects: subjects ?? [`${names.prefix}no-advisories`] });
}

it('a job whose message ran out of deliveries with its advisory lost is failed and dead-lettered by the reconciler', async () => {
  const { nats, names } = t.app.deps;
  const { config } = await nats.jsm.streams.info(names.advisoryStream);
  const id = await submit('test.poison');
  const consumer = await nats.js.consumers.get(names.jobsStream, names.workerConsumer('test.poison'));

  await advisorySubjects(null);
  try {
    // Three deliveries, each nak'ed before any claim (a worker crashing on it would leave them so).
    for (let deliveries = 0; deliveries < 3; ) {
      const m = await consumer.next({ expires: 5000 });
      if (!m) continue;
      expect(m.json<{ id: string }>().id).toBe(id);
      deliveries++;
      m.nak();
    }
    // 2.9.10 gives up on the message (and raises the advisory) when it would deliver it again: a pull waits.
    expect(await consumer.next({ expires: 3000 })).toBeNull();
    const info = await consumer.info();
    expect(info.num_ack_pending).toBe(0);
    expect(await nats.jsm.streams.info(names.advisoryStream).then((s) => s.state.messages)).toBe(0);
  } finally {
    await advisorySubjects(config.subjects);
  }

  const job = await waitForJob(t.url, id, (j) => j.state !== 'QUEUED', 30_000);
  expect({ state: job.state, error: job.error, attempts: job.attempts }).toEqual({
    state: 'FAILED',
    error: 'deliveries exhausted after 3 deliveries',
    attempts: 0,
  });
  const dl = (await gql(t.url, `{ deadLetters(first: 5, type: "test.poison") { totalCount edges { node { id state } } } }`)).body.data.deadLetters;
  expect(dl).toEqual({ totalCount: 1, edges: [{ node: { id, state: 'FAILED' } }] });
  await eventually(
    async () => {
      const s = await nats.jsm.streams.info(names.jobsStream, { subjects_filter: names.jobSubject('test.poison') });
      return (s.state.subjects?.[names.jobSubject('test.poison')] ?? 0) === 0 ? true : undefined;
    },
    10_000,
    'the message is removed from the work queue',
  );
});

it('a job whose message is pending (nak\'ed with a delay, no worker pulling) is left to wait for it', async () => {
  const { nats, names, relay } = t.app.deps;
  const id = await submit('demo.noop');
  const consumer = await nats.js.consumers.get(names.jobsStream, names.workerConsumer('demo.noop'));
  const m = await consumer.next({ expires: 5000 });
  expect(m?.json<{ id: string }>().id).toBe(id);
  m!.nak(120_000); // as a stopping worker's hand-back leaves it, with no other worker running
  await new Promise((r) => setTimeout(r, 1500)); // past RECONCILE_AFTER_MS
  for (let i = 0; i < 3; i++) await relay.reconcileOnce();
  const [row] = await t.env.sql`select state, error from jobs where id = ${id}`;
  expect(row).toEqual({ state: 'QUEUED', error: null });
  expect((await nats.jsm.streams.getMessage(names.jobsStream, { seq: m!.seq }))?.json<{ id: string }>().id).toBe(id);
});
