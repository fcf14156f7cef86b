/**
 * `retryJob` while NATS is down (a private nats-server this test stops and starts): the replay is written to
 * PostgreSQL and its message goes out once NATS is back, and the job's old copy in the dead-letter stream is
 * still removed then, so the stream and queueStats.deadLetters count only the dead letters there are.
 */
import { expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { useAppOnPrivateNats } from '../support/private-nats-app.js';
import { deadLetterCopiesOf } from '../support/dead-letter-copies.js';

const s = useAppOnPrivateNats();

const copiesOf = (id: string) => deadLetterCopiesOf(s.t.app.deps, id);
const deadLetterCount = async () =>
  (await gql(s.t.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats.find((x: { type: string }) => x.type === 'demo.flaky').deadLetters;
const deadLettered = (id: string) =>
  eventually(async () => {
    const [row] = await s.env.sql<{ seq: number | null }[]>`select dead_letter_seq::float8 as seq from jobs where id = ${id}`;
    return row?.seq ?? undefined;
  }, 60_000, 'dead letter recorded');

it('removes the old dead-letter copy of a job retried while NATS was down', async () => {
  const r = await gql(s.t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  await waitForJob(s.t.url, id, (j) => j.state === 'FAILED');
  const firstSeq = await deadLettered(id);
  expect(await copiesOf(id)).toEqual([`${firstSeq}:1`]);

  await s.nats.stop();
  const retried = await gql(s.t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  await s.nats.start();

  // The replay (series 2) runs once NATS is back and fails for good again: its own copy is recorded.
  const secondSeq = await eventually(async () => {
    const [row] = await s.env.sql<{ series: number; seq: number | null }[]>`select series, dead_letter_seq::float8 as seq from jobs where id = ${id}`;
    return row?.series === 2 && row.seq !== null ? row.seq : undefined;
  }, 60_000, 'series 2 dead-lettered');
  // Only the new series' copy is left (the old one is removed once NATS answers again).
  const left = await eventually(async () => {
    const copies = await copiesOf(id);
    return copies.length === 1 ? copies : undefined;
  }, 90_000, 'one copy left');
  expect(left).toEqual([`${secondSeq}:2`]);
  expect(await deadLetterCount()).toBe(1);
}, 180_000);
