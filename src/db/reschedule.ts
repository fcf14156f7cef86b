/**
 * `rescheduleJob`'s statement: a waiting job's time moved, as a guarded transition, and its message made to
 * come at the new time.
 */
import type { Sql } from './client.js';
import type { JobRow } from './schema.js';
import { RESCHEDULABLE_STATES, type JobState } from '../jobs/state.js';
import { rescheduleEntries, type OutboxEntry } from './outbox.js';
import { requeueMessage } from './stale-jobs.js';
import { first, transition, type Transition } from './transition.js';
import { NOT_CANCELLING } from './transitions.js';

/** A reschedule moves a waiting job's time, its state unchanged; `x.run_at` null: now. */
const RESCHEDULE: Record<(typeof RESCHEDULABLE_STATES)[number], Transition> = {
  QUEUED: { to: 'QUEUED', from: ['QUEUED'], unobserved: true, set: `run_at = x.run_at`, where: NOT_CANCELLING, columns: { run_at: 'timestamptz' } },
  RETRYING: {
    to: 'RETRYING',
    from: ['RETRYING'],
    unobserved: true,
    set: `next_attempt_at = coalesce(x.run_at, now())`,
    where: NOT_CANCELLING,
    columns: { run_at: 'timestamptz' },
  },
};

/** What `rescheduleWaitingJob` did: the job rescheduled and the outbox entries to publish, or why not. */
export type Rescheduled =
  | { job: JobRow; entries: OutboxEntry[] }
  /** Not waiting (QUEUED or RETRYING): left as it is. */
  | { refused: JobState }
  /** `runAt` is not before the job's `startBy` (it would expire unrun): left as it is. */
  | { startBy: Date }
  /** No such job (of `owner`). */
  | null;

/**
 * `rescheduleJob`, inside the caller's transaction: a QUEUED job's `run_at`, or a RETRYING job's
 * `next_attempt_at`, becomes `runAt` (null: now), with a `message` history row. Its message must then reach a
 * worker at that time, not before and not much later:
 * - its unpublished scheduled entries (waiting for `not_before`) move with it (`not_before` = runAt; null:
 *   published at once); an immediate one is left as it is (it may be in the stream already, its published
 *   mark not written yet: `rescheduleEntries`);
 * - with none, and its message in the stream held back past the new time (a RETRYING job's nak'ed until its
 *   old `next_attempt_at`, which JetStream cannot shorten; a QUEUED one nak'ed until an old `runAt`), a fresh
 *   copy is queued, due at the new time, under a `Nats-Msg-Id` of its own (the job's new seq), so the
 *   stream's dedupe does not drop it. The old message, when it comes, finds the job claimed from the copy
 *   (acked as a stale copy), finished (acked), or not due yet (nak'ed until due), as a reconciler's copy does;
 * - a message that would come before the new time is refused by the claim and nak'ed until then.
 * A job with a `start_by` at or before `runAt` is left as it is (`startBy`): it could only expire unrun there.
 * The row is locked first, so a claim, a cancel or an outcome racing the reschedule waits for it or wins it.
 */
export async function rescheduleWaitingJob(
  tx: Sql,
  a: { id: string; owner: string | null; runAt: Date | null; message: string; subjectOf: (type: string) => string },
): Promise<Rescheduled> {
  const [row] = await tx.unsafe<{ state: JobState; heldBack: boolean | null; startBy: Date | null }[]>(
    `select state, start_by as "startBy", (case when state = 'RETRYING' then next_attempt_at else run_at end) > greatest(now(), coalesce($2::timestamptz, now()))
       as "heldBack"
     from jobs where id = $1 and ($3::text is null or owner = $3) for update`,
    [a.id, a.runAt?.toISOString() ?? null, a.owner],
  );
  if (!row) return null;
  if (!(RESCHEDULABLE_STATES as readonly JobState[]).includes(row.state)) return { refused: row.state };
  if (a.runAt && row.startBy && a.runAt >= row.startBy) return { startBy: row.startBy };
  const t = RESCHEDULE[row.state as (typeof RESCHEDULABLE_STATES)[number]];
  const job = await first(transition(tx, t, [{ id: a.id, message: a.message, run_at: a.runAt?.toISOString() }]));
  if (!job) return { refused: row.state }; // locked waiting and not cancelling: not reached
  const entries = await rescheduleEntries(tx, job.id, a.runAt);
  if (!entries.length && row.heldBack) {
    const msgId = `${job.id}:${job.series}:r${job.seq}`;
    entries.push(await requeueMessage(tx, job, a.subjectOf(job.type), { msgId, notBefore: a.runAt }));
  }
  return { job, entries };
}
