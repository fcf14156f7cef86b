/**
 * Dead letters. A job's message ends in the dead-letter stream when:
 * - a worker fails it for good (permanent error, or its last attempt failed): the worker marks it FAILED,
 *   copies the message here, then `term()`s it (on a work-queue stream term deletes the message at once);
 * - JetStream gives up on it (MAX_DELIVERIES advisory, captured in a durable stream): the recorder copies the
 *   original (fetched by stream sequence), deletes it from the work queue and marks the job FAILED;
 * - its worker died on the last attempt and no worker pulls any more (nats-server 2.9 raises no advisory
 *   then): the sweep does the same from the job's recorded message sequence. A lease that ran out is not
 *   enough: a worker cut off from PostgreSQL still holds its attempt (and says so when the sweep asks).
 * Every step is idempotent (a job's copies are on a subject of its own, where one of its attempt series is
 * looked up and reused before another is made; two made at once are deduplicated by `Nats-Msg-Id` = job id +
 * attempt series), and the advisory is acked only after the job is recorded, so a crash anywhere loses no
 * dead letter and makes no second copy.
 * This file copies, records and removes copies; the recorder (advisories and the sweep) is
 * dead-letter-recorder.ts.
 */
import { headers as newHeaders, type MsgHdrs } from '@nats-io/nats-core';
import { JetStreamApiError } from '@nats-io/jetstream';
import type { Sql } from '../db/client.js';
import { markCancelled } from '../db/cancel.js';
import { fenceAsRead, markDeadLettered } from '../db/transitions.js';
import { recordDeadLetter } from '../db/dead-letters.js';
import { noteStaleCopies, recordedCopies, staleCopies, staleCopiesRemoved } from '../db/dead-letter-removals.js';
import type { JobRow } from '../db/schema.js';
import { isExpired } from '../db/expiry.js';
import { faultPoint } from '../faults.js';
import type { Logger } from '../log.js';
import { publishUpdate, updateFromJob } from '../progress/updates.js';
import { repairingOnFailure, type Nats } from './connect.js';
import { encode, jobIdIn, jobMessageSchema, parseMessage } from './messages.js';
import type { Names } from './names.js';
import { legacyCopyOf } from './legacy-dead-letters.js';
import { messagesOnSubject } from './subject-reads.js';

export interface DeadLetterDeps {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
}

/** One of a job's copies in the dead-letter stream: its sequence, and the attempt series of the message copied. */
interface Copy {
  seq: number;
  series: number | null;
}

/**
 * The copies on job `job`'s own subject, oldest first: one, or a few once it was replayed and failed again
 * (an earlier series' copy goes with the replay, or when that series' message comes again). Read one by one
 * (subject-reads.ts).
 */
function copiesOf(d: Pick<DeadLetterDeps, 'nats' | 'names'>, job: Pick<JobRow, 'id' | 'type'>): Promise<Copy[]> {
  const read = async () => {
    const found: Copy[] = [];
    for await (const m of messagesOnSubject(d.nats.jsm, d.names.deadLetterStream, d.names.deadLetterSubject(job.type, job.id))) {
      found.push({ seq: m.seq, series: parseMessage(jobMessageSchema, m.data)?.series ?? null });
    }
    return found;
  };
  // The dead-letter stream deleted alone (no pull fails then): made again, for the caller's next try.
  return repairingOnFailure(d.nats, read());
}

/**
 * Publishes the copy, on the job's own subject, unless a copy of its attempt series is there already (made
 * by a process that died before recording it, or recorded and handled again), or one an older longrun made
 * on the type's subject (legacyCopyOf): that one's sequence is the answer, however long ago it was made. Two made at once are deduplicated per attempt series (`Nats-Msg-Id`:
 * a second copy returns the first one's sequence). A first copy removed as stale since (its job changed
 * before it was recorded) still holds its id in the duplicate window: then this copy goes out under the next
 * id, named after the gone copy's sequence (or the job would be recorded against a copy that is gone). That
 * id is the same in every process, so two that find the same copy gone at once publish one copy between
 * them, which both record; an id of each one's own left the copy the job did not record in the stream for
 * good, counted as a dead letter.
 */
async function publishCopy(
  d: DeadLetterDeps,
  job: JobRow,
  error: string | null,
  original?: { data: Uint8Array; header?: MsgHdrs | undefined } | null,
): Promise<number> {
  const made = (await copiesOf(d, job)).find((c) => c.series === job.series)?.seq ?? (await legacyCopyOf(d, job));
  if (made !== null) return made;
  const h = newHeaders();
  for (const [k, v] of original?.header ?? []) for (const x of v) if (k !== 'Nats-Msg-Id') h.append(k, x);
  h.set('Longrun-Job-Id', job.id);
  h.set('Longrun-Attempts', String(job.attempts));
  if (error) h.set('Longrun-Error', error.slice(0, 1000).replace(/[\r\n]+/g, ' '));
  // No stream takes the subject (its subjects changed, or it was deleted since copiesOf read it, when no
  // read fails): made again, for the caller's next try.
  const publish = (msgID: string) =>
    repairingOnFailure(
      d.nats,
      d.nats.js.publish(d.names.deadLetterSubject(job.type, job.id), original?.data ?? encode({ id: job.id, type: job.type, series: job.series }), {
        msgID,
        headers: h,
        timeout: 5000,
      }),
    );
  for (let msgID = `${job.id}:${job.series}`; ; ) {
    const pa = await publish(msgID);
    if (!pa.duplicate || (await d.nats.jsm.streams.getMessage(d.names.deadLetterStream, { seq: pa.seq })) !== null) return pa.seq;
    msgID = `${job.id}:${job.series}:${pa.seq}`; // a later sequence each time: this ends
  }
}

/**
 * Whether `job` is a FAILED job whose copy in the dead-letter stream is not recorded (its worker, or this
 * component, stopped between the failure and the copy): its message is copied when it comes again. An expired
 * job (not started by its startBy) is FAILED without one: it is no dead letter, and its message only goes.
 */
export const copyMissing = (job: JobRow): boolean => job.state === 'FAILED' && job.deadLetteredAt === null && !isExpired(job);

/** Copies a FAILED job's message into the dead-letter stream and records where (a worker's path). */
export async function copyToDeadLetters(
  d: DeadLetterDeps,
  job: JobRow,
  original?: { data: Uint8Array; header?: MsgHdrs | undefined } | null,
): Promise<void> {
  const dlqSeq = await publishCopy(d, job, job.error, original);
  faultPoint('dead-letter-copied-before-record');
  await recordCopy(d, job, dlqSeq);
}

/**
 * For a message of an earlier attempt series still delivered after its job was replayed: that series ended
 * FAILED (only a FAILED job is replayed), and its worker may have stopped between publishing the copy and
 * recording it, so the replay found no copy to remove, and the copy would stay in the dead-letter stream for
 * good, counted as a dead letter. The copies of the job's earlier series on its subject go as stale copies
 * (the one a replay noted too: removing it again changes nothing).
 */
export async function removeEarlierSeriesCopies(d: DeadLetterDeps, job: JobRow): Promise<void> {
  const stale = (await copiesOf(d, job)).filter((c) => c.series !== null && c.series < job.series);
  if (!stale.length) return;
  await noteStaleCopies(d.sql, stale.map((c) => c.seq));
  await removeDeadLetterCopies(d, stale.map((c) => ({ seq: c.seq, jobId: job.id })));
}

/**
 * For a message whose job has no row any more (purged, or deleted by retention, while the message waited to
 * come back): a worker that died between publishing the job's copy and recording it left that copy, which
 * the deletion could not know of, in the dead-letter stream with no job. Every copy on the job's subject goes
 * (noted first, so the sweep finishes what NATS does not answer for now).
 */
export async function removeCopiesOfGoneJob(d: DeadLetterDeps, job: Pick<JobRow, 'id' | 'type'>): Promise<void> {
  const orphans = await copiesOf(d, job);
  if (!orphans.length) return;
  d.log.info({ jobId: job.id, dlqSeqs: orphans.map((c) => c.seq) }, 'dead letters: removing the copies of a job that is gone');
  await noteStaleCopies(d.sql, orphans.map((c) => c.seq));
  await removeDeadLetterCopies(d, orphans.map((c) => ({ seq: c.seq, jobId: job.id })));
}

/**
 * Records the copy at `dlqSeq` on its job; a copy the job no longer stands for (replayed, or not FAILED
 * after all) is deleted, so the dead-letter stream and its counts hold only jobs that are dead letters.
 */
async function recordCopy(d: DeadLetterDeps, job: JobRow, dlqSeq: number): Promise<boolean> {
  if (await recordDeadLetter(d.sql, { id: job.id, series: job.series, dlqSeq })) return true;
  d.log.info({ jobId: job.id, dlqSeq }, 'dead letters: the job changed before its copy was recorded (replayed? retried?); removing the copy');
  await noteStaleCopies(d.sql, [dlqSeq]);
  await removeDeadLetterCopy(d, dlqSeq, job.id);
  return false;
}

/**
 * Deletes job `jobId`'s copy at `seq` in the dead-letter stream; true once it is not there (deleted now, or
 * before), false when NATS did not answer. Another job's copy at `seq` (the stream was deleted and made again,
 * so its sequences started over) is not this one, which went with the old stream: it stays, and this one
 * counts as gone. nats-server 2.9.10 answers the delete of a missing message with one of several codes
 * (10057 "no message found" or "stream store EOF", 10043 "sequence N not found"), so a refusal is checked
 * with a get, which answers a missing message plainly (null). `jobId` null: whatever copy is there.
 */
async function deleteCopy(d: Pick<DeadLetterDeps, 'nats' | 'names'>, seq: number, jobId: string | null): Promise<boolean> {
  if (jobId !== null) {
    const m = await d.nats.jsm.streams.getMessage(d.names.deadLetterStream, { seq }).catch(() => undefined);
    if (m === undefined) return false;
    if (m === null || m.header.get('Longrun-Job-Id') !== jobId) return true;
  }
  try {
    await d.nats.jsm.streams.deleteMessage(d.names.deadLetterStream, seq);
    return true;
  } catch (e) {
    if (!(e instanceof JetStreamApiError)) return false;
    return (await d.nats.jsm.streams.getMessage(d.names.deadLetterStream, { seq }).catch(() => undefined)) === null;
  }
}

/**
 * Removes a copy from the dead-letter stream that no longer stands for a dead letter (a job replayed by
 * `retryJob`, or replayed before its copy was recorded), noted in `dead_letter_removals` by the caller. Tried
 * once now; if NATS does not answer (down, restarting), the row stays and the recorder's sweep tries again
 * (`removeStaleCopies`), in whichever API process runs next, so the stream and its counts do not keep a copy
 * of a job that is no longer a dead letter.
 */
export async function removeDeadLetterCopy(d: Pick<DeadLetterDeps, 'sql' | 'nats' | 'names' | 'log'>, dlqSeq: number, jobId: string): Promise<void> {
  await removeDeadLetterCopies(d, [{ seq: dlqSeq, jobId }]);
}

/**
 * removeDeadLetterCopy for many copies (a bulk replay's), 64 at a time: at the first NATS does not answer for,
 * the rest are left to the sweep at once, so a caller waits for one window's timeout, not one per window.
 * Answers how many are left.
 */
export async function removeDeadLetterCopies(
  d: Pick<DeadLetterDeps, 'sql' | 'nats' | 'names' | 'log'>,
  copies: readonly { seq: number; jobId: string }[],
): Promise<number> {
  const gone = await deleteDeadLetterCopies(d, copies);
  if (gone.size) await staleCopiesRemoved(d.sql, [...gone]);
  const left = copies.length - gone.size;
  if (left) d.log.warn({ left, dlqSeqs: copies.filter((c) => !gone.has(c.seq)).slice(0, 10).map((c) => c.seq) }, 'dead letters: could not remove stale copies (NATS unreachable?); the sweep tries again');
  return left;
}

/**
 * One sweep's removal of the stale copies still noted (up to 100); answers how many are gone now. A sequence
 * a job records as its copy holds a dead letter (the stream was deleted and made again since the stale copy
 * was noted): that one stays, and the note goes.
 */
export async function removeStaleCopies(d: DeadLetterDeps): Promise<number> {
  const seqs = await staleCopies(d.sql, 100);
  const live = await recordedCopies(d.sql, seqs);
  const gone = [...(await deleteDeadLetterCopies(d, seqs.filter((seq) => !live.has(seq)).map((seq) => ({ seq, jobId: null }))))];
  await staleCopiesRemoved(d.sql, [...gone, ...live]);
  return gone.length;
}

/**
 * Deletes copies from the dead-letter stream (of the jobs being purged, jobs/retention.ts; of no job, `jobId`
 * null: stale ones); answers the sequences that are gone now (deleted, or not there any more, or holding
 * another job's copy: see deleteCopy). It stops at the first copy NATS does not answer for: that copy and the
 * rest stay, and so do their jobs, for a later pass.
 */
export async function deleteDeadLetterCopies(
  d: Pick<DeadLetterDeps, 'nats' | 'names'>,
  copies: readonly { seq: number; jobId: string | null }[],
): Promise<Set<number>> {
  const gone = new Set<number>();
  for (let i = 0; i < copies.length; i += 64) {
    const window = copies.slice(i, i + 64);
    const results = await Promise.all(window.map((c) => deleteCopy(d, c.seq, c.jobId)));
    window.forEach((c, k) => results[k] && gone.add(c.seq));
    if (results.some((ok) => !ok)) break;
  }
  return gone;
}

/**
 * Dead-letters a job whose message JetStream will not deliver again: copy, delete from the work queue,
 * mark FAILED, record. `error` explains why when its worker did not fail it. A job whose cancel was
 * requested is CANCELLED instead (its message deleted, no copy). Answers false when the job changed since
 * `job` was read (its worker wrote a retry, it was claimed again or replayed) and was left as it is now, its
 * copy removed: the caller looks at it again (its message may be gone, as it would be for the failure);
 * true when it is finished (failed or cancelled here, or found so).
 */
export async function deadLetterJob(d: DeadLetterDeps, job: JobRow, msgSeq: number | null, error: string): Promise<boolean> {
  const atSeq = msgSeq === null ? null : await d.nats.jsm.streams.getMessage(d.names.jobsStream, { seq: msgSeq });
  // Only this job's message: once the work queue was deleted and made again, its sequences start from 1, and
  // the one a claim recorded can hold another job's message, which must be neither copied nor deleted.
  const original = atSeq && jobIdIn(atSeq.data) === job.id.toLowerCase() ? atSeq : null;
  const drop = async () => {
    if (original) await d.nats.jsm.streams.deleteMessage(d.names.jobsStream, original.seq).catch(() => false);
    return true;
  };
  if (job.state === 'SUCCEEDED' || job.state === 'CANCELLED') return drop();
  // Dead-lettered already (an advisory handled again, its ack lost): its copy is in the stream. Outside the
  // duplicate window another copy would not be deduplicated, and the first would stay for good. Or expired:
  // no dead letter at all.
  if (job.state === 'FAILED' && !copyMissing(job)) return drop();
  if (job.cancelRequested && job.state !== 'FAILED') {
    // Its cancel was asked for while its worker held it, and that worker died: the user's answer, not a
    // failure (CANCELLED once the lease ran out).
    const cancelled = await markCancelled(d.sql, { id: job.id, ...fenceAsRead(job) });
    if (cancelled) {
      publishUpdate(d.nats.nc, d.names, updateFromJob(cancelled));
      return drop();
    }
  }
  // A RUNNING job's error column is an earlier attempt's (a claim keeps it): its last attempt ended for `error`.
  const reason = job.state === 'RUNNING' ? error : (job.error ?? error);
  const dlqSeq = await publishCopy(d, job, reason, original);
  await drop();
  faultPoint('dead-letter-before-mark');
  if (job.state !== 'FAILED') {
    // As read: a job replayed, claimed again or retried by its worker since is not this one's to fail. Its copy
    // is recorded in the same statement: FAILED and its message gone, the job would be looked for by no sweep,
    // redelivery or advisory again, so a crash (or a lost connection) before a separate record left it unlisted
    // for good.
    const failed = await markDeadLettered(d.sql, {
      id: job.id,
      ...fenceAsRead(job),
      error: reason,
      attemptFailed: job.state === 'RUNNING',
      deadLetterSeq: dlqSeq,
    });
    faultPoint('dead-letter-after-mark');
    if (failed) {
      publishUpdate(d.nats.nc, d.names, updateFromJob(failed));
      return true;
    }
  }
  return recordCopy(d, job, dlqSeq); // the copy stands for `job`'s attempt series
}
