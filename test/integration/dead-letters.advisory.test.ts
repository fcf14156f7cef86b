/**
 * Dead letters found from JetStream's own MAX_DELIVERIES advisory: deliveries that never reached a claim
 * (a worker that crashes before claiming, say) still count, and when the consumer's max-deliver is used up
 * the recorder copies the original message (headers kept), removes it from the work queue and fails the job.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { createTestEnv, startTestApp, type TestApp } from '../support/app.js';
import { spawnApi, type LongrunProcess } from '../support/processes.js';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { names } from '../../src/messaging/names.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { poisonJob } from '../support/effect-job.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';


let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, poisonJob], handlers: BUILTIN_HANDLERS });
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
  const copy = await nats.jsm.streams.getMessage(names.deadLetterStream, { last_by_subj: names.deadLetterSubject('test.poison', id) });
  expect(copy?.json<{ id: string }>()).toMatchObject({ id, type: 'test.poison' });
  expect(copy?.header.get('Longrun-Job-Id')).toBe(id);
  const dl = (await gql(t.url, `{ deadLetters(first: 5, type: "test.poison") { totalCount edges { node { id state } } } }`)).body.data.deadLetters;
  expect(dl).toEqual({ totalCount: 1, edges: [{ node: { id, state: 'FAILED' } }] });
});

it('records the dead letter once when the recorder dies between the advisory and marking the job', async () => {
  const env = await createTestEnv();
  const n = names(env.prefix);
  const fast = { ACK_WAIT_MS: '2000', LOG_LEVEL: 'warn' };
  const api1 = await spawnApi({ ...env.env, ...fast, LONGRUN_FAULTS: 'dead-letter-before-mark' }, { withEffects: true });
  let api2: LongrunProcess | null = null;
  const nc = await connect({ servers: env.natsUrl });
  try {
    const js = jetstream(nc);
    const id = (await gql(api1.url, SUBMIT, { input: { type: 'test.poison', payload: {} } })).body.data.submitJob.job.id;
    const consumer = await js.consumers.get(n.jobsStream, n.workerConsumer('test.poison'));
    for (let deliveries = 0; deliveries < 3; ) {
      const m = await consumer.next({ expires: 5000 });
      if (m) {
        deliveries++;
        m.nak();
      }
    }
    const waiting = consumer.next({ expires: 3000 }); // 2.9: the advisory needs a pull waiting
    // The recorder copies the message, removes it from the work queue, and dies before marking the job.
    expect((await api1.exited).signal).toBe('SIGKILL');
    await waiting;
    const jsm = await jetstreamManager(nc);
    const dlSubject = n.deadLetterSubject('test.poison', id);
    const dlCount = async () => (await jsm.streams.info(n.deadLetterStream, { subjects_filter: dlSubject })).state.subjects?.[dlSubject] ?? 0;
    expect(await dlCount()).toBe(1);
    const [before] = await env.sql`select state, dead_lettered_at from jobs where id = ${id}`;
    expect(before).toEqual({ state: 'QUEUED', dead_lettered_at: null });

    // Restarted, it gets the unacked advisory again and finishes the job: recorded once.
    api2 = await spawnApi({ ...env.env, ...fast }, { withEffects: true });
    const job = await waitForJob(api2.url, id, (j) => j.state === 'FAILED');
    expect(job.error).toBe('deliveries exhausted after 3 deliveries');
    expect(job.events.filter((e: any) => e.state === 'FAILED')).toHaveLength(1);
    expect(await dlCount()).toBe(1);
    const [after] = await env.sql`select dead_lettered_at is not null as recorded from jobs where id = ${id}`;
    expect(after!.recorded).toBe(true);
  } finally {
    await nc.close();
    await api2?.kill('SIGTERM');
    await api1.kill('SIGKILL');
    await env.dispose();
  }
}, 300_000);
