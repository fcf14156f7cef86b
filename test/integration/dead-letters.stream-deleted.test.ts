/**
 * The dead-letter stream deleted alone while longrun runs (an operator's mistake; its other streams and
 * consumers still there, so no pull fails): a job that fails for good still gets its copy and is listed as a
 * dead letter. The copy's failure ("stream not found") makes the process set its streams up again
 * (stream-repair.ts), and the redelivered message is copied then. Before, every try failed the same way until
 * a longrun process restarted: the job stayed FAILED with no copy, and `deadLetters` never listed it.
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

const DEAD_LETTERS = `{ deadLetters(type: "demo.flaky") { edges { node { id state } } } }`;

it('a job failed for good after the dead-letter stream was deleted is copied into it, made again, and listed', async () => {
  const { nats, names } = t.app.deps;
  await nats.jsm.streams.delete(names.deadLetterStream);
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true } } })).body.data.submitJob.job.id as string;
  expect(await waitForJob(t.url, id, (j) => j.state === 'FAILED')).toMatchObject({ state: 'FAILED' });
  await eventually(
    async () => (await gql(t.url, DEAD_LETTERS)).body.data.deadLetters.edges.some((e: { node: { id: string } }) => e.node.id === id),
    'listed as a dead letter',
    60_000,
  );
  const [row] = await t.env.sql<{ seq: string | null }[]>`select dead_letter_seq::text as seq from jobs where id = ${id}`;
  expect(row!.seq).not.toBeNull();
  const copy = await nats.jsm.streams.getMessage(names.deadLetterStream, { seq: Number(row!.seq) });
  expect(copy?.subject).toBe(names.deadLetterSubject('demo.flaky', id));
}, 120_000);
