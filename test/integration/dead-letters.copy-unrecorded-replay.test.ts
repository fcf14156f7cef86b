/**
 * A worker killed between publishing a FAILED job's dead-letter copy and recording it on the job (a fault
 * point), and the job replayed with `retryJob` before its message comes again: the replay finds no recorded
 * copy to remove. The old series' message, delivered again, is not that series' to fail; before, it was only
 * acked, and the copy stayed in the dead-letter stream for good, counted in `queueStats.deadLetters` with no
 * job listing it. Now the copy goes, and the stream holds exactly the copy the job records.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { spawnWorker, type LongrunProcess } from '../support/processes.js';
import { eventually } from '../support/receivers.js';
import { deadLetterCopiesOf } from '../support/dead-letter-copies.js';

let t: TestApp;
const workers: LongrunProcess[] = [];
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { ACK_WAIT_MS: '2000' } });
});
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await t?.dispose();
});

const worker = async (extra: Record<string, string> = {}) => {
  const w = await spawnWorker({ ...t.env.env, ACK_WAIT_MS: '2000', SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'warn', ...extra });
  workers.push(w);
  return w;
};
const copiesOf = (id: string) => deadLetterCopiesOf(t.app.deps, id);
const row = async (id: string) =>
  (await t.env.sql<{ state: string; series: number; seq: number | null }[]>`select state, series, dead_letter_seq::float8 as seq from jobs where id = ${id}`)[0]!;
const flakyDeadLetters = async () =>
  (await gql(t.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats.find((s: { type: string }) => s.type === 'demo.flaky')?.deadLetters;

it('removes the copy a killed worker published but did not record, once the job was replayed', async () => {
  const killed = await worker({ LONGRUN_FAULTS: 'dead-letter-copied-before-record' });
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  expect((await killed.exited).signal).toBe('SIGKILL');
  // FAILED, its series-1 copy in the stream, not recorded (the worker died before).
  expect(await row(id)).toMatchObject({ state: 'FAILED', series: 1, seq: null });
  expect((await copiesOf(id)).map((c) => c.split(':')[1])).toEqual(['1']);

  const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });

  // Another worker runs the replay (it fails for good again: its own copy, recorded) and gets the old message.
  await worker();
  await waitForJob(t.url, id, (j) => j.state === 'FAILED' && j.attempts === 1);
  const recorded = await eventually(async () => {
    const now = await row(id);
    return now.series === 2 && now.seq !== null ? now.seq : undefined;
  }, 30_000, 'series 2 dead-lettered');
  const left = await eventually(async () => {
    const copies = await copiesOf(id);
    return copies.length === 1 ? copies : undefined;
  }, 30_000, 'one copy left');
  expect(left).toEqual([`${recorded}:2`]);
  expect(await flakyDeadLetters()).toBe(1);
}, 120_000);
