/**
 * The dead-letter stream deleted and made again (by an operator; longrun makes it again at start): its
 * sequences start over, so a job dead-lettered before has a `dead_letter_seq` that now holds another job's
 * copy. Replaying the old job with `retryJob`, or purging it, must leave that other copy alone: it is not
 * the old job's (whose copy went with the stream). Before, both deleted it, and the other job, still a
 * FAILED dead letter, lost its copy in the stream (and its count in queueStats.deadLetters).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';
import { streamConfigs } from '../../src/messaging/streams.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ config: { RETENTION_INTERVAL_MS: '86400000' } });
});
afterAll(async () => {
  await t?.dispose();
});

const copySeq = async (id: string) => {
  let seq: number | null = null;
  await eventually(async () => {
    seq = (await t.env.sql<{ s: number | null }[]>`select dead_letter_seq::float8 as s from jobs where id = ${id}`)[0]!.s;
    return seq !== null;
  }, 'dead letter recorded');
  return seq!;
};
const failed = async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true } } })).body.data.submitJob.job.id as string;
  await waitForJob(t.url, id, (j) => j.state === 'FAILED');
  return { id, seq: await copySeq(id) };
};
const copyOwner = async (seq: number) => {
  const { nats, names } = t.app.deps;
  const m = await nats.jsm.streams.getMessage(names.deadLetterStream, { seq });
  return m?.header.get('Longrun-Job-Id') ?? null;
};

it('retryJob and purgeJobs of a job dead-lettered before the stream was made again leave the new copies at its sequence alone', async () => {
  const old1 = await failed();
  const old2 = await failed();

  const { nats, names } = t.app.deps;
  await nats.jsm.streams.delete(names.deadLetterStream);
  const cfg = streamConfigs(names, { ackWaitMs: t.config.ACK_WAIT_MS, duplicateWindowMs: t.config.DUPLICATE_WINDOW_MS }).find((c) => c.name === names.deadLetterStream)!;
  await nats.jsm.streams.add(cfg);

  const new1 = await failed();
  const new2 = await failed();
  expect([new1.seq, new2.seq]).toEqual([old1.seq, old2.seq]); // the same sequences, now other jobs' copies
  expect(await copyOwner(new1.seq)).toBe(new1.id);

  const retried = (await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id: old1.id })).body.data.retryJob;
  expect(retried.userErrors).toEqual([]);
  expect(await copyOwner(new1.seq)).toBe(new1.id);
  // A stale copy noted before the stream was made again (its removal left to the sweep, NATS down then).
  await t.env.sql`insert into dead_letter_removals (seq) values (${new2.seq})`;
  await t.app.deadLetters.sweepOnce();
  expect(await copyOwner(new2.seq)).toBe(new2.id);
  expect(await t.env.sql`select seq from dead_letter_removals`).toEqual([]);

  await t.env.sql`update jobs set finished_at = now() - interval '2 days' where id = ${old2.id}`;
  const PURGE = `mutation { purgeJobs(input: { olderThanSeconds: 86400, states: [FAILED] }) { purged deadLetterCopiesRemoved userErrors { code } } }`;
  expect((await gql(t.url, PURGE)).body.data.purgeJobs).toMatchObject({ purged: 1, userErrors: [] });
  expect(await copyOwner(new2.seq)).toBe(new2.id);
  const stats = (await gql(t.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats;
  expect(stats.find((s: { type: string }) => s.type === 'demo.flaky').deadLetters).toBeGreaterThanOrEqual(2);
}, 120_000);
