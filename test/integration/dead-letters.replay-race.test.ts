/**
 * A job replayed with `retryJob` between its worker marking it FAILED and copying its message to the
 * dead-letter stream (the worker's last two steps): the late copy stands for an attempt series that is over.
 * It is removed instead of recorded, so the dead-letter stream and its counts hold only dead letters, and a
 * later failure of the new series is not credited with the old series' copy.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { markFailed } from '../../src/db/transitions.js';
import type { JobRow } from '../../src/db/schema.js';
import { copyToDeadLetters } from '../../src/messaging/dead-letters.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const deps = () => ({ ...t.app.deps, sql: t.env.sql as never });
const copiesOf = async (id: string) => {
  const { nats, names } = t.app.deps;
  const info = await nats.jsm.streams.info(names.deadLetterStream);
  const ids: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await nats.jsm.streams.getMessage(names.deadLetterStream, { seq }).catch(() => null);
    if (m?.header.get('Longrun-Job-Id') === id) ids.push(`${seq}:${m.header.get('Longrun-Attempts')}`);
  }
  return ids;
};
/** What an operator sees: the dead-letter list, and the type's count of messages in the dead-letter stream. */
const deadLetters = async () => {
  const d = (await gql(t.url, `{ deadLetters(first: 10) { totalCount edges { node { id } } } queueStats { type deadLetters } }`)).body.data;
  return { list: d.deadLetters, inStream: d.queueStats.find((s: { type: string }) => s.type === 'demo.noop')?.deadLetters ?? 0 };
};
const retry = async (id: string) =>
  (await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id })).body.data.retryJob;

it('removes a copy made after the job was replayed, and never records it on a later failure', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  // Its worker fails it (series 1) ...
  const failed1 = (await markFailed(t.app.deps.sql, { id, error: 'boom', attemptFailed: false })) as JobRow;
  expect(failed1).toMatchObject({ state: 'FAILED', series: 1 });
  // ... an operator replays it at once (series 2) ...
  expect(await retry(id)).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  // ... and the worker's copy of series 1 lands now: removed, not recorded.
  await copyToDeadLetters(deps(), failed1);
  expect(await copiesOf(id)).toEqual([]);
  expect(await deadLetters()).toEqual({ list: { totalCount: 0, edges: [] }, inStream: 0 });

  // Series 2 fails too; a late copy of series 1 still does not count for it, series 2's own copy does.
  const failed2 = (await markFailed(t.app.deps.sql, { id, error: 'boom again', attemptFailed: false })) as JobRow;
  expect(failed2).toMatchObject({ state: 'FAILED', series: 2 });
  await copyToDeadLetters(deps(), failed1);
  const [row1] = await t.env.sql<{ dead_letter_seq: number | null }[]>`select dead_letter_seq from jobs where id = ${id}`;
  expect(row1!.dead_letter_seq).toBeNull();
  await copyToDeadLetters(deps(), failed2);
  const [row2] = await t.env.sql<{ dead_letter_seq: number }[]>`select dead_letter_seq::float8 as dead_letter_seq from jobs where id = ${id}`;
  expect(await copiesOf(id)).toEqual([`${row2!.dead_letter_seq}:0`]);
  expect(await deadLetters()).toEqual({ list: { totalCount: 1, edges: [{ node: { id } }] }, inStream: 1 });
});

it('a copy removed as stale does not stand for a later failure of the same series inside the duplicate window', async () => {
  // A copy made for the job while it was not failed (here: read while QUEUED; in production, read by the
  // recorder just before a claim changed it) is removed instead of recorded. Its Nats-Msg-Id (job and series)
  // stays in JetStream's duplicate window, so the real failure's copy, published under the same id, was
  // dropped as a duplicate: the job was recorded against the removed copy's sequence, listed as a dead
  // letter with no copy in the stream.
  const submitted = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const [queued] = await t.env.sql<JobRow[]>`select id, type, series, attempts, state from jobs where id = ${submitted}`;
  await copyToDeadLetters(deps(), { ...queued!, error: null } as JobRow);
  expect(await copiesOf(submitted)).toEqual([]);

  const failed = (await markFailed(t.app.deps.sql, { id: submitted, error: 'boom', attemptFailed: false })) as JobRow;
  expect(failed).toMatchObject({ state: 'FAILED', series: 1 });
  await copyToDeadLetters(deps(), failed);
  const [row] = await t.env.sql<{ dead_letter_seq: number }[]>`select dead_letter_seq::float8 as dead_letter_seq from jobs where id = ${submitted}`;
  expect(await copiesOf(submitted)).toEqual([`${row!.dead_letter_seq}:0`]);
  const { list } = await deadLetters();
  expect(list.edges).toContainEqual({ node: { id: submitted } });
});

it('two recorders that both find the copy of a series removed as stale publish one new copy between them', async () => {
  // As above, the series' first copy was removed as stale, its id still in the duplicate window. Then the job
  // fails, and two recorders read it FAILED with no copy recorded before either records one (its worker, and
  // the dead-letter recorder handling an advisory for it): each publishes the copy, finds the id's copy gone,
  // and publishes again. Under ids of their own, that made two copies: the job recorded the last, and the
  // other stayed in the stream for good, counted as a dead letter even once the job was replayed.
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const [queued] = await t.env.sql<JobRow[]>`select id, type, series, attempts, state from jobs where id = ${id}`;
  await copyToDeadLetters(deps(), { ...queued!, error: null } as JobRow);
  expect(await copiesOf(id)).toEqual([]);

  const failed = (await markFailed(t.app.deps.sql, { id, error: 'boom', attemptFailed: false })) as JobRow;
  const before = (await deadLetters()).inStream;
  await copyToDeadLetters(deps(), failed);
  expect(await deadLetters()).toMatchObject({ inStream: before + 1 });
  await copyToDeadLetters(deps(), failed); // the second recorder, with the job as it read it
  const [row] = await t.env.sql<{ dead_letter_seq: number }[]>`select dead_letter_seq::float8 as dead_letter_seq from jobs where id = ${id}`;
  expect(await copiesOf(id)).toEqual([`${row!.dead_letter_seq}:0`]);
  expect(await deadLetters()).toMatchObject({ inStream: before + 1 });

  // Replayed, the job leaves nothing behind in the stream.
  expect(await retry(id)).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  expect(await copiesOf(id)).toEqual([]);
  expect(await deadLetters()).toMatchObject({ inStream: before });
});
