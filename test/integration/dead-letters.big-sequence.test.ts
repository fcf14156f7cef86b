/**
 * The dead-letter stream's sequences grow for its whole life (JetStream counts them in 64 bits): a busy
 * system with many failures passes 2^31 in time (at 100 dead letters a second, in 250 days). The copy's
 * sequence is recorded on the job; stored as a 32-bit integer, every dead letter after that point failed to
 * be recorded (integer out of range), so no job showed up in `deadLetters` any more and a replay left its
 * copy in the stream. The stream is moved past 2^32 here (a purge up to a sequence sets the next one).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.dispose();
});

const FAR = 5_000_000_000;
const DEAD_LETTERS = `{ deadLetters(type: "demo.flaky") { edges { node { id state } } } }`;
const copies = async () => (await t.app.deps.nats.jsm.streams.info(t.app.deps.names.deadLetterStream)).state.messages;

it('a job dead-lettered at a stream sequence past 2^32 is listed, and retryJob removes its copy', async () => {
  const { nats, names } = t.app.deps;
  await nats.jsm.streams.purge(names.deadLetterStream, { seq: FAR });
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true } } })).body.data.submitJob.job.id as string;
  await waitForJob(t.url, id, (j) => j.state === 'FAILED');
  await eventually(async () => (await gql(t.url, DEAD_LETTERS)).body.data.deadLetters.edges.some((e: { node: { id: string } }) => e.node.id === id), 'listed as a dead letter');
  const [row] = await t.env.sql<{ seq: string }[]>`select dead_letter_seq::text as seq from jobs where id = ${id}`;
  expect(row!.seq).toBe(String(FAR));
  expect(await copies()).toBe(1);

  const retried = (await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id })).body.data.retryJob;
  expect(retried.userErrors).toEqual([]);
  await eventually(async () => (await copies()) === 0, 'the copy removed from the stream');
}, 120_000);
