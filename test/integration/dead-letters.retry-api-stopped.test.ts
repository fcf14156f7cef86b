/**
 * `retryJob` while NATS is down, in an API process that then stops before NATS is back: the job's old copy in
 * the dead-letter stream is still removed, by another process once NATS answers (the removal was noted in
 * PostgreSQL with the replay), so the stream and queueStats.deadLetters count only the dead letters there are.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startPrivateNats, type PrivateNats } from '../setup/services.js';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

let nats: PrivateNats;
let env: TestEnv;
let first: TestApp | undefined;
let second: TestApp | undefined;
beforeAll(async () => {
  nats = await startPrivateNats();
  env = await createTestEnv({ natsUrl: nats.url });
  first = await startTestApp({ env });
});
afterAll(async () => {
  await second?.dispose();
  await first?.dispose();
  await env?.dispose();
  await nats?.dispose();
});

/** The attempt series of the job's copies in the dead-letter stream. */
async function copiesOf(t: TestApp, id: string): Promise<number[]> {
  const { nats: n, names } = t.app.deps;
  const info = await n.jsm.streams.info(names.deadLetterStream);
  const found: number[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await n.jsm.streams.getMessage(names.deadLetterStream, { seq }).catch(() => null);
    if (m?.header.get('Longrun-Job-Id') === id) found.push(JSON.parse(new TextDecoder().decode(m.data)).series);
  }
  return found;
}

it('removes the old copy of a job retried while NATS was down, after the API process that retried it stopped', async () => {
  const t = first!;
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  await waitForJob(t.url, id, (j) => j.state === 'FAILED');
  await eventually(async () => (await env.sql`select 1 from jobs where id = ${id} and dead_letter_seq is not null`).length > 0, 60_000, 'dead letter recorded');
  expect(await copiesOf(t, id)).toEqual([1]);

  await nats.stop();
  const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  await t.dispose(); // before NATS answers again: this process cannot remove the copy any more
  first = undefined;
  await nats.start();

  second = await startTestApp({ env });
  const s = second;
  // The replay (series 2) runs and fails for good again: its own copy is the only one left.
  await eventually(async () => (await env.sql`select 1 from jobs where id = ${id} and series = 2 and dead_letter_seq is not null`).length > 0, 60_000, 'series 2 dead-lettered');
  expect(await eventually(async () => {
    const copies = await copiesOf(s, id);
    return copies.length === 1 ? copies : undefined;
  }, 60_000, 'one copy left')).toEqual([2]);
  const stats = (await gql(s.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats;
  expect(stats.find((x: { type: string }) => x.type === 'demo.flaky').deadLetters).toBe(1);
}, 180_000);
