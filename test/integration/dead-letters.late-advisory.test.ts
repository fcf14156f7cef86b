/**
 * A MAX_DELIVERIES advisory handled again after its job was dead-lettered: the recorder copied the message,
 * failed the job and recorded the copy, then stopped before acking the advisory (a crash, a lost ack), and
 * came back after the dead-letter stream's duplicate window. The job has its copy: no second one is made.
 * Before, a second copy went into the stream, the job's `dead_letter_seq` moved to it, and the first stayed
 * for good (counted by `queueStats.deadLetters`, never removed by retention or `retryJob`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { handleAdvisory } from '../../src/messaging/dead-letter-recorder.js';
import { poisonJob } from '../support/effect-job.js';

const WINDOW_MS = 1000;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, poisonJob], handlers: null, config: { DUPLICATE_WINDOW_MS: String(WINDOW_MS) } });
});
afterAll(async () => {
  await t?.dispose();
});

it('makes no second copy of a job already dead-lettered when its advisory comes again after the duplicate window', async () => {
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
  await waitForJob(t.url, id, (j) => j.state === 'FAILED');
  await waiting;
  const recorded = async () => (await t.env.sql<{ seq: number | null }[]>`select dead_letter_seq::float8 as seq from jobs where id = ${id}`)[0]!.seq;
  for (let i = 0; i < 100 && (await recorded()) === null; i++) await new Promise((r) => setTimeout(r, 100));
  const first = await recorded();
  expect(first).not.toBeNull();

  await new Promise((r) => setTimeout(r, WINDOW_MS + 500)); // past the duplicate window
  const advisory = {
    type: 'io.nats.jetstream.advisory.v1.max_deliver' as const,
    stream: names.jobsStream,
    consumer: names.workerConsumer('test.poison'),
    stream_seq: streamSeq,
    deliveries: 3,
  };
  await handleAdvisory(t.app.deps, advisory, { ackWaitMs: t.config.ACK_WAIT_MS });

  const subject = names.deadLetterSubject('test.poison', id);
  const info = await nats.jsm.streams.info(names.deadLetterStream, { subjects_filter: subject });
  expect(info.state.subjects?.[subject] ?? 0).toBe(1);
  expect(await recorded()).toBe(first);
  const stats = (await gql(t.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats;
  expect(stats.find((s: { type: string }) => s.type === 'test.poison').deadLetters).toBe(1);
});
