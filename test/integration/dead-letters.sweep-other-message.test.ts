/**
 * The dead-letter sweep fails a last attempt whose worker died, copying the job's message from the sequence
 * its claim recorded. Once the work queue stream was deleted and made again (an operator's repair), sequences
 * start from 1 again, and that sequence can hold another job's message: it must not be copied as this job's
 * dead letter, nor deleted from the work queue (the other job would wait, messageless, for the reconciler).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const submit = async () =>
  (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 10 }, maxAttempts: 1 } })).body.data.submitJob.job.id as string;

/** The stream sequence the job's message was published at. */
async function streamSeqOf(id: string): Promise<number> {
  let seq: number | null = null;
  await eventually(async () => {
    const [r] = await t.env.sql<{ s: number | null }[]>`select stream_seq::float8 as s from outbox where job_id = ${id} order by id desc limit 1`;
    seq = r?.s ?? null;
    return seq !== null;
  }, 'the job published');
  return seq!;
}

it("leaves another job's message at the sequence a lost last attempt's claim recorded, and copies the job's own", async () => {
  const { nats, names } = t.app.deps;
  const a = await submit();
  // A's message went with the old stream; B's sits at the sequence A's claim recorded, and A's lease ran out.
  await nats.jsm.streams.deleteMessage(names.jobsStream, await streamSeqOf(a));
  const b = await submit();
  const bSeq = await streamSeqOf(b);
  await t.env.sql`update jobs set state = 'RUNNING', attempts = 1, started_at = now() - interval '1 hour',
    lease_until = now() - interval '1 hour', msg_seq = ${bSeq} where id = ${a}`;

  await t.app.deadLetters.sweepOnce();

  const [rowA] = await t.env.sql`select state, dead_letter_seq::float8 as dls from jobs where id = ${a}`;
  expect(rowA!.state).toBe('FAILED');
  const copy = await nats.jsm.streams.getMessage(names.deadLetterStream, { seq: rowA!.dls });
  expect(JSON.parse(new TextDecoder().decode(copy!.data))).toMatchObject({ id: a, series: 1 });
  const [rowB] = await t.env.sql`select state from jobs where id = ${b}`;
  expect(rowB!.state).toBe('QUEUED');
  expect(await nats.jsm.streams.getMessage(names.jobsStream, { seq: bSeq })).not.toBeNull();
});
