/**
 * Settling a delivery: the outcome of its attempt written to PostgreSQL, its update published, and only then
 * its message acked, nak'ed with a delay, or copied to the dead letters and termed; or, for a delivery that
 * could not be claimed, what the message deserves given the job's row.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { markCancelled } from '../src/db/cancel.js';
import { markFailed, markQueuedAgain, markRetrying, type Success } from '../src/db/transitions.js';
import type { ChangedUpdate } from '../src/db/transition.js';
import { databaseNow } from '../src/db/client.js';
import { expireJobs, expireLostJob } from '../src/db/expiry.js';
import { getJob } from '../src/db/jobs.js';
import type { JobRow } from '../src/db/schema.js';
import { UnreachableCaseError } from '../src/errors.js';
import type { classifyOutcome } from '../src/jobs/outcome.js';
import { isTerminal } from '../src/jobs/state.js';
import { copyMissing, copyToDeadLetters, deadLetterJob, removeCopiesOfGoneJob, removeEarlierSeriesCopies, type DeadLetterDeps } from '../src/messaging/dead-letters.js';
import { HELD_LOOK_AGAIN_MS, heldByWorkers, PAST_LEASE_MS } from '../src/messaging/held.js';
import type { JobMessage } from '../src/messaging/messages.js';
import { publishUpdate, updateFromJob } from '../src/progress/updates.js';
import type { Attempt } from './attempt.js';
import type { Persist } from './persist.js';

/** What settling needs: the dead-letter component's connections and logger, and the pool's write paths. */
export interface SettleDeps extends DeadLetterDeps {
  /** Retries a PostgreSQL write until it goes through (persist.ts). */
  persist: Persist;
  /** The pool's group commit of successes: it publishes the update and acks the message once committed. */
  succeed(s: Success & { msg: JsMsg }): Promise<ChangedUpdate | null>;
}

export function createSettler(d: SettleDeps) {
  const { sql, nats, names, log, persist, succeed } = d;

  /** A delivery that could not be claimed: decide what the message deserves. */
  async function resolveUnclaimed(m: JsMsg, msg: JobMessage, job: JobRow | null): Promise<void> {
    if (!job) {
      log.warn({ jobId: msg.id }, 'message for a job with no row; acked and dropped');
      await removeCopiesOfGoneJob(d, { id: msg.id.toLowerCase(), type: msg.type }); // its copy, if its worker died before recording one
      return m.ack();
    }
    if (msg.series !== job.series) {
      // From an earlier attempt series, which ended FAILED: its copy may be in the dead-letter stream unrecorded.
      if (msg.series < job.series) await removeEarlierSeriesCopies(d, job);
      return m.ack();
    }
    if (isTerminal(job.state)) {
      // Delivered again after the job finished: its own worker may not have published the end (the outcome's
      // write committed, its answer lost, and the retried write refused by it). Watchers drop an update they
      // had by its seq, so the end is published again rather than possibly never.
      publishUpdate(nats.nc, names, updateFromJob(job));
      if (copyMissing(job)) {
        await copyToDeadLetters(d, job, m); // the worker failing it stopped before the copy
        return m.term();
      }
      return m.ack();
    }
    // The job's times (lease, next attempt, runAt) are PostgreSQL's: judged and waited for by its clock, not this
    // machine's, which may run ahead (a delivery nak'ed for 1 s until due, again and again, would use up its
    // deliveries and be dead-lettered unrun) or behind.
    const now = (await persist('read', () => databaseNow(sql))).getTime();
    if (job.state === 'RUNNING' && job.leaseUntil && job.leaseUntil.getTime() > now) {
      // Held under a live lease, and not from this message: claimed from another one (a copy the reconciler
      // published once the lease had run out), or msg_seq is null: the reconciler queued a copy (which clears
      // it) and the holder's renewal took the lease back before anyone claimed the copy. This one is a stale
      // copy, not the holder's. Nak'ed once per lease for as long as the job runs, it would reach max-deliver
      // and be dead-lettered, failing the running job. (Should the holder die, its lease runs out and the
      // reconciler queues the job again.)
      if (job.msgSeq !== m.seq) return m.ack();
      return m.nak(Math.max(100, job.leaseUntil.getTime() - now + PAST_LEASE_MS)); // another worker holds it
    }
    if (job.cancelRequested) {
      // Waiting, or RUNNING under a dead worker's expired lease: the cancel it was asked for.
      const done = await markCancelled(sql, { id: job.id });
      if (done) publishUpdate(nats.nc, names, updateFromJob(done));
      else if (job.state === 'RUNNING') return m.nak(1000); // PostgreSQL's clock: the lease holds a moment more
      return m.ack();
    }
    // Its worker died during its last attempt (the attempts are used up), or past its startBy (no attempt
    // starts again: the claim refused it). Unless that worker, cut off from PostgreSQL (so its lease ran out),
    // runs on and says so, as the dead-letter sweep asks: then this is a copy of the message (the holder's
    // in-progress acks keep its own), or its own come back for a moment.
    const lastAttempt = job.attempts >= job.maxAttempts;
    if (job.state === 'RUNNING' || lastAttempt) {
      if ((await heldByWorkers(d, [job])).size) {
        log.info({ jobId: job.id }, 'lease ran out, but a worker still holds the attempt (cut off from PostgreSQL?); left to it');
        // A copy is dropped; with `msg_seq` null (the reconciler's copy: the holder's own message was lost) it is
        // kept, or the next reconciler pass would find the job's message gone and publish another.
        return job.msgSeq !== null && job.msgSeq !== m.seq ? m.ack() : m.nak(HELD_LOOK_AGAIN_MS);
      }
    }
    if (lastAttempt) {
      // Changed since the read (its worker, back, wrote the outcome): this delivery is looked at again.
      if (!(await deadLetterJob(d, job, null, 'worker lost during the last attempt'))) return m.nak(1000);
      return m.term();
    }
    if (job.state === 'RUNNING') {
      const expired = await persist('expired', () => expireLostJob(sql, job));
      if (expired) return endExpired(m, expired);
      return m.nak(1000); // not past its startBy: the claim lost a race with the lease's end; claimed next time
    }
    // Delivered before its next attempt is due (the RETRYING write's nak was lost with its answer; rescheduled
    // later), or before a scheduled job's runAt (published early by an API older than migration 0012; already in
    // the stream when rescheduled later): then.
    const at = job.state === 'RETRYING' ? job.nextAttemptAt : job.runAt; // QUEUED or RETRYING by now
    const due = at ? at.getTime() - now : 0;
    if (due <= 0) {
      // Due, yet the claim refused it: its startBy has passed (else a race, and this write changes nothing).
      // Ended here, FAILED expired, rather than nak'ed until the API's expiry pass gets to it.
      const [expired] = await persist('expired', () => expireJobs(sql, [job.id]));
      if (expired) return endExpired(m, expired);
    }
    m.nak(due > 0 ? due + 100 : 1000);
  }

  /** A job this delivery found past its startBy, FAILED expired now: its update published, its message acked. */
  function endExpired(m: JsMsg, expired: JobRow): void {
    publishUpdate(nats.nc, names, updateFromJob(expired));
    log.info({ jobId: expired.id, error: expired.error }, 'not started by its startBy: FAILED expired');
    m.ack();
  }

  async function finish(a: Attempt, outcome: ReturnType<typeof classifyOutcome>): Promise<void> {
    const { job, m, lastReport } = a;
    const fence = { ...a.fence, lastSeq: a.seq };
    const superseded = () =>
      // Not ours any more (a newer attempt claimed it): its holder settles the message.
      a.log.warn({ outcome: outcome.state }, 'outcome not recorded: the attempt was superseded');
    // A retry, failure or hand-back the database refused because a cancel was asked for as the attempt ended.
    const cancelInstead = () => persist('cancelled', () => markCancelled(sql, fence));
    /**
     * The RETRYING this attempt wrote, when the write committed and its answer was lost (its retry, and the
     * cancel after it, refused by that very write): only this attempt's worker writes its RETRYING. Its update
     * is published and its message nak'ed with the delay, as if the answer had come.
     */
    const retryingAlready = async () => {
      const row = await persist('read', () => getJob(sql, job.id));
      return row?.state === 'RETRYING' && row.series === job.series && row.attempts === job.attempts ? row : null;
    };
    let after: JobRow | null;
    switch (outcome.state) {
      case 'SUCCEEDED': {
        // The success batch publishes the update and acks the message once the batch is committed.
        const done = await persist('succeeded', () => succeed({ ...fence, result: outcome.result, progressMessage: lastReport?.message ?? null, msg: m }));
        if (!done) superseded();
        return;
      }
      case 'CANCELLED':
        after = await persist('cancelled', () => markCancelled(sql, fence));
        break;
      case 'RETRYING':
        after =
          (await persist('retrying', () => markRetrying(sql, { ...fence, error: outcome.error, delayMs: outcome.delayMs, report: lastReport }))) ??
          (await cancelInstead()) ??
          (await retryingAlready());
        break;
      case 'FAILED':
        after =
          (await persist('failed', () => markFailed(sql, { ...fence, error: outcome.error, attemptFailed: true, report: lastReport }))) ??
          (await cancelInstead());
        break;
      case 'QUEUED':
        after = (await persist('hand back', () => markQueuedAgain(sql, fence, outcome.why))) ?? (await cancelInstead());
        break;
      default:
        throw new UnreachableCaseError(outcome);
    }
    if (!after) return superseded();
    publishUpdate(nats.nc, names, updateFromJob(after));
    if (after.state === 'CANCELLED') return m.ack(); // cancelled, asked for or instead of a retry, failure or hand-back
    switch (outcome.verb) {
      case 'ack':
        m.ack();
        break;
      case 'nak':
        m.nak(outcome.delayMs);
        break;
      case 'term':
        await persist('dead letter', () => copyToDeadLetters(d, after, m));
        m.term();
        break;
      default:
        throw new UnreachableCaseError(outcome);
    }
    if (outcome.state === 'RETRYING' || outcome.state === 'FAILED') a.log.info({ error: outcome.error }, `attempt failed → ${outcome.state}`);
  }

  return { resolveUnclaimed, finish };
}
