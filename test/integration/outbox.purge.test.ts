/**
 * Purging published outbox entries keeps what the reconciler needs: a job that no worker has claimed yet
 * has its message's stream sequence only on its outbox entry, so that entry stays, and the reconciler goes
 * on leaving the job alone instead of queueing a second message.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { countRows, startTestApp, workerSwitch, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';
import { purgePublished } from '../../src/db/outbox.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { RECONCILE_AFTER_MS: '1000' } });
});
afterAll(async () => {
  await t?.dispose();
});

it('keeps the entry of a job still waiting for its first claim, and the reconciler does not re-queue it', async () => {
  const { nats, names, sql } = t.app.deps;
  const submit = async () => (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const finished = await submit();
  const workers = workerSwitch(t);
  await workers.start();
  await waitForJob(t.url, finished, (j) => j.state === 'SUCCEEDED');
  await workers.stop();
  const waiting = await submit();
  await eventually(async () => (await countRows(sql, 'outbox', 'published_at is null')) === 0, 'both are published');

  await purgePublished(sql, 0);
  expect(await countRows(sql, 'outbox', `job_id = '${finished}'`)).toBe(0);
  expect(await countRows(sql, 'outbox', `job_id = '${waiting}'`)).toBe(1);

  await new Promise((r) => setTimeout(r, 1100)); // older than RECONCILE_AFTER_MS
  expect(await t.app.deps.relay.reconcileOnce()).toBe(0);
  const stream = await nats.jsm.streams.info(names.jobsStream);
  expect(stream.state.messages).toBe(1); // the waiting job's one message; nothing re-queued
});
