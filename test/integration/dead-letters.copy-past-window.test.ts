/**
 * A worker killed between publishing a FAILED job's dead-letter copy and recording it on the job (a fault
 * point), whose message comes back to another worker after the dead-letter stream's duplicate window: that
 * worker copies the job again. Before, the `Nats-Msg-Id` no longer deduplicated it, a second copy went in
 * and the first stayed for good: `queueStats.deadLetters` counted the job twice, and once the job was purged
 * the first copy stayed with no job. Now the job's copy is looked up on its own subject first and reused,
 * and an older longrun's copy on the type's subject too (a worker of it killed before recording, the
 * message back to a newer worker after an upgrade longer than the window).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { spawnWorker, type LongrunProcess } from '../support/processes.js';
import { eventually } from '../support/receivers.js';
import { deadLetterCopiesOf } from '../support/dead-letter-copies.js';

const WINDOW_MS = 1000;
const FAST = { ACK_WAIT_MS: '2000', DUPLICATE_WINDOW_MS: String(WINDOW_MS) };

let t: TestApp;
const workers: LongrunProcess[] = [];
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: FAST });
});
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await t?.dispose();
});

const worker = async (extra: Record<string, string> = {}) => {
  const w = await spawnWorker({ ...t.env.env, ...FAST, SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'warn', ...extra });
  workers.push(w);
  return w;
};
const recordedSeq = async (id: string) =>
  (await t.env.sql<{ seq: number | null }[]>`select dead_letter_seq::float8 as seq from jobs where id = ${id}`)[0]?.seq ?? null;
/** Moves the copy at `own` to the type's subject, where an older longrun made every copy; answers its sequence. */
const moveToTypeSubject = async (own: number, id: string) => {
  const { nats, names } = t.app.deps;
  const copy = (await nats.jsm.streams.getMessage(names.deadLetterStream, { seq: own }))!;
  const old = await nats.js.publish(names.legacyDeadLetterSubject('demo.flaky'), copy.data, { headers: copy.header, msgID: `older:${id}` });
  await nats.jsm.streams.deleteMessage(names.deadLetterStream, own);
  return old;
};
const flakyDeadLetters = async () =>
  (await gql(t.url, `{ queueStats { type deadLetters } }`)).body.data.queueStats.find((s: { type: string }) => s.type === 'demo.flaky')?.deadLetters;

it('keeps one copy of a job whose unrecorded copy is made again after the duplicate window, and purges it with the job', async () => {
  const killed = await worker({ LONGRUN_FAULTS: 'dead-letter-copied-before-record' });
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  expect((await killed.exited).signal).toBe('SIGKILL');
  const [first] = await deadLetterCopiesOf(t.app.deps, id);
  expect(first).toBeDefined();
  expect(await recordedSeq(id)).toBeNull();

  await new Promise((r) => setTimeout(r, WINDOW_MS + 500)); // past the duplicate window
  await worker(); // gets the message back (AckWait) and copies the FAILED job again
  const recorded = await eventually(async () => (await recordedSeq(id)) ?? undefined, 30_000, 'the copy recorded');
  expect(await deadLetterCopiesOf(t.app.deps, id)).toEqual([`${recorded}:1`]);
  expect(`${recorded}:1`).toBe(first);
  expect(await flakyDeadLetters()).toBe(1);

  const purged = await gql(t.url, `mutation { purgeJobs(input: { olderThanSeconds: 0, states: [FAILED] }) { purged deadLetterCopiesRemoved } }`);
  expect(purged.body.data.purgeJobs).toEqual({ purged: 1, deadLetterCopiesRemoved: 1 });
  expect(await deadLetterCopiesOf(t.app.deps, id)).toEqual([]);
  expect(await flakyDeadLetters()).toBe(0);
}, 120_000);

it('counts, replays and removes a copy an older longrun made on its type\'s subject', async () => {
  const { nats, names } = t.app.deps;
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  const own = await eventually(async () => (await recordedSeq(id)) ?? undefined, 30_000, 'the copy recorded');
  // As an older longrun left it: the copy on the type's subject, recorded on the job.
  const old = await moveToTypeSubject(own, id);
  await t.env.sql`update jobs set dead_letter_seq = ${old.seq} where id = ${id}`;
  expect(await flakyDeadLetters()).toBe(1);

  const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });
  // Replayed, it fails for good again: its new copy, on its own subject, is the only one.
  const again = await eventually(async () => {
    const [row] = await t.env.sql<{ series: number; seq: number | null }[]>`select series, dead_letter_seq::float8 as seq from jobs where id = ${id}`;
    return row?.series === 2 && row.seq !== null ? row.seq : undefined;
  }, 30_000, 'series 2 dead-lettered');
  expect(await deadLetterCopiesOf(t.app.deps, id)).toEqual([`${again}:2`]);
  expect((await nats.jsm.streams.getMessage(names.deadLetterStream, { seq: again }))?.subject).toBe(names.deadLetterSubject('demo.flaky', id));
  expect(await flakyDeadLetters()).toBe(1);
}, 120_000);

it('removes the unrecorded copy of a replayed job when its old message comes back after the duplicate window', async () => {
  for (const w of workers.splice(0)) await w.kill('SIGKILL'); // the killed worker below takes the job
  const before = await flakyDeadLetters();
  const killed = await worker({ LONGRUN_FAULTS: 'dead-letter-copied-before-record' });
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  expect((await killed.exited).signal).toBe('SIGKILL');
  expect((await deadLetterCopiesOf(t.app.deps, id)).map((c) => c.split(':')[1])).toEqual(['1']);
  const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { state } userErrors { code } } }`, { id });
  expect(retried.body.data.retryJob).toEqual({ job: { state: 'QUEUED' }, userErrors: [] });

  await new Promise((r) => setTimeout(r, WINDOW_MS + 500)); // past the duplicate window
  await worker(); // runs the replay (FAILED again, its copy recorded), and gets the old series' message back
  const again = await eventually(async () => {
    const [row] = await t.env.sql<{ series: number; seq: number | null }[]>`select series, dead_letter_seq::float8 as seq from jobs where id = ${id}`;
    return row?.series === 2 && row.seq !== null ? row.seq : undefined;
  }, 30_000, 'series 2 dead-lettered');
  const left = await eventually(async () => {
    const copies = await deadLetterCopiesOf(t.app.deps, id);
    return copies.length === 1 ? copies : undefined;
  }, 30_000, 'one copy left').catch(() => deadLetterCopiesOf(t.app.deps, id));
  expect(left).toEqual([`${again}:2`]);
  expect(await flakyDeadLetters()).toBe(before + 1);
}, 120_000);

it('records the unrecorded copy an older longrun made on its type\'s subject when the message comes back after the duplicate window', async () => {
  for (const w of workers.splice(0)) await w.kill('SIGKILL'); // the earlier tests' workers: the killed one takes it
  const before = await flakyDeadLetters(); // the earlier tests' dead letters
  const killed = await worker({ LONGRUN_FAULTS: 'dead-letter-copied-before-record' });
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  expect((await killed.exited).signal).toBe('SIGKILL');
  // As an older longrun's worker, killed before recording it, left it: the copy on the type's subject.
  const [made] = await deadLetterCopiesOf(t.app.deps, id);
  const own = Number(made!.split(':')[0]);
  const old = await moveToTypeSubject(own, id);
  expect(await recordedSeq(id)).toBeNull();

  await new Promise((r) => setTimeout(r, WINDOW_MS + 500)); // past the duplicate window (the upgrade)
  await worker(); // a newer worker gets the message back and finds that copy
  const recorded = await eventually(async () => (await recordedSeq(id)) ?? undefined, 30_000, 'the copy recorded');
  expect(recorded).toBe(old.seq);
  expect(await deadLetterCopiesOf(t.app.deps, id)).toEqual([`${old.seq}:1`]);
  expect(await flakyDeadLetters()).toBe(before + 1);
  await gql(t.url, `mutation { purgeJobs(input: { olderThanSeconds: 0, states: [FAILED] }) { purged } }`);
  expect(await deadLetterCopiesOf(t.app.deps, id)).toEqual([]);
  expect(await flakyDeadLetters()).toBe(0);
}, 120_000);

it('removes the unrecorded copy of a job purged before its message came back', async () => {
  for (const w of workers.splice(0)) await w.kill('SIGKILL'); // the killed worker below takes the job
  const killed = await worker({ LONGRUN_FAULTS: 'dead-letter-copied-before-record' });
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  expect((await killed.exited).signal).toBe('SIGKILL');
  expect(await deadLetterCopiesOf(t.app.deps, id)).toHaveLength(1);
  // Every FAILED job goes (this file's earlier ones with their recorded copies); the purge knows of no copy
  // of this one (none is recorded): the job goes, its copy stays, for now.
  const purged = await gql(t.url, `mutation { purgeJobs(input: { olderThanSeconds: 0, states: [FAILED] }) { purged } }`);
  expect(purged.body.data.purgeJobs.purged).toBeGreaterThanOrEqual(1);
  expect((await gql(t.url, `query($id: ID!) { job(id: $id) { id } }`, { id })).body.data.job).toBeNull();
  expect(await deadLetterCopiesOf(t.app.deps, id)).toHaveLength(1);
  expect(await flakyDeadLetters()).toBe(1);

  await worker(); // gets the message back (AckWait): its job has no row, and its copy goes
  const left = await eventually(async () => {
    const copies = await deadLetterCopiesOf(t.app.deps, id);
    return copies.length === 0 ? copies : undefined;
  }, 30_000, 'the copy removed').catch(() => deadLetterCopiesOf(t.app.deps, id));
  expect(left).toEqual([]);
  expect(await flakyDeadLetters()).toBe(0);
}, 120_000);
