/**
 * The batched history reads of resyncing `jobProgress` subscriptions (db/history.ts) answer each read what
 * one read of its own would: the job's changes after its seq (`getEvents`) and the job's state and seq now
 * (`getJob`), also for reads of one job at different seqs, an id in capitals, and a job that is gone.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { createHistoryReader, getEventsMany, type HistoryRead } from '../../src/db/history.js';
import { getEvents, getJob, insertJobs } from '../../src/db/jobs.js';
import { markRunning, markSucceeded } from '../../src/db/transitions.js';
import { ATTEMPT_ERRORS, attemptErrorsOf } from '../../src/db/queries.js';
import { newJob, useTestDb } from '../support/app.js';

const t = useTestDb();

/** What a read answers when made alone, with the single-job reads. */
async function alone(r: HistoryRead) {
  const job = await getJob(t.db.sql, r.jobId);
  return { events: await getEvents(t.db.sql, r.jobId, r.afterSeq), job: job && { state: job.state, seq: job.seq }, more: false };
}

async function jobs(): Promise<{ done: string; queued: string }> {
  const [done, queued] = [newJob(), newJob()];
  await insertJobs(t.db.sql, [done, queued]);
  await markRunning(t.db.sql, { id: done.id, series: 1, leaseMs: 60_000, msgSeq: 1 });
  await markSucceeded(t.db.sql, { id: done.id, attempt: 1, series: 1, lastSeq: 2, result: { ok: true }, progressMessage: 'all done' });
  return { done: done.id, queued: queued.id };
}

it('answers each read of a batch as it would be answered alone', async () => {
  const { done, queued } = await jobs();
  const last = (await getJob(t.db.sql, done))!.seq;
  const reads: HistoryRead[] = [
    { jobId: done, afterSeq: 0 },
    { jobId: done, afterSeq: 2 },
    { jobId: done, afterSeq: last },
    { jobId: queued.toUpperCase(), afterSeq: 0 },
    { jobId: queued, afterSeq: 1 },
    { jobId: randomUUID(), afterSeq: 0 },
  ];
  const batched = await getEventsMany(t.db.sql, reads);
  expect(batched).toEqual(await Promise.all(reads.map(alone)));
  expect(batched[0]!.events.map((e) => e.state)).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
  expect(batched[2]).toEqual({ events: [], job: { state: 'SUCCEEDED', seq: last }, more: false });
  expect(batched[5]).toEqual({ events: [], job: null, more: false });
});

it('shares one answer between identical reads made together, through the group-commit reader', async () => {
  const { done, queued } = await jobs();
  const read = createHistoryReader(t.db.sql, 2);
  const reads: HistoryRead[] = [
    { jobId: done, afterSeq: 1 },
    { jobId: done, afterSeq: 1 },
    { jobId: queued, afterSeq: 0 },
    { jobId: done, afterSeq: 0 },
    { jobId: queued, afterSeq: 0 },
  ];
  const answers = await Promise.all(reads.map(read));
  expect(answers).toEqual(await Promise.all(reads.map(alone)));
  expect(answers[1]).toBe(answers[0]);
  expect(answers[4]).toBe(answers[2]);
  // A read made once its statement is over is read again.
  expect(await read(reads[0]!)).not.toBe(answers[0]);
});

it('answers at most `limit` rows a job, and says when more follow', async () => {
  const { done, queued } = await jobs();
  const [first, later, short] = await getEventsMany(t.db.sql, [
    { jobId: done, afterSeq: 0 },
    { jobId: done, afterSeq: 1 },
    { jobId: queued, afterSeq: 0 },
  ], 2);
  expect(first!.events.map((e) => e.seq)).toEqual([1, 2]);
  expect(first!.more).toBe(true);
  // It shares the job's read after seq 0: fewer rows than the limit, and still more to read.
  expect(later!.events.map((e) => e.seq)).toEqual([2]);
  expect(later!.more).toBe(true);
  expect(short).toMatchObject({ more: false });
  expect(short!.events.map((e) => e.state)).toEqual(['QUEUED']);
});

it("reads a long history's attempt errors through their own index, not every progress row", async () => {
  const job = newJob();
  await insertJobs(t.db.sql, [job]);
  // An attempt that recorded 20,000 progress milestones and failed twice among them.
  await t.db.sql`insert into job_events (job_id, seq, kind, state, progress, message, error, attempt)
    select ${job.id}, g, case when g in (500, 15000) then 'error' else 'progress' end, 'RUNNING', 1, 'step',
      case when g in (500, 15000) then 'failed at ' || g end, 1
    from generate_series(2, 20001) g`;
  await t.db.sql`analyze job_events`;
  expect((await attemptErrorsOf(t.db.sql, [job.id])).map((e) => e.error)).toEqual(['failed at 500', 'failed at 15000']);
  const plan = await t.db.sql.unsafe<{ 'QUERY PLAN': unknown }[]>(`explain (format json) ${ATTEMPT_ERRORS}`, [[job.id] as never]);
  expect(JSON.stringify(plan[0]!['QUERY PLAN'])).toContain('"Index Name":"job_events_errors"');
});
