/**
 * Asking the workers whether they still hold jobs' attempts, over NATS (`<prefix>held.<jobId>`; a worker
 * answers for the attempts it runs or is claiming: workers/held-jobs.ts). A lease that ran out says only that
 * PostgreSQL heard nothing from the holder: one cut off from PostgreSQL cannot renew it, but runs on, and writes
 * the outcome once PostgreSQL answers it again. The dead-letter sweep and advisories ask before failing such a
 * job, a worker given a copy of a last attempt's message before failing it, a cancel before cancelling it at
 * once.
 */
import type { JobRow } from '../db/schema.js';
import type { Nats } from './connect.js';
import { heldAttemptBody } from './messages.js';
import type { Names } from './names.js';

/** How long to wait for a worker to say it still holds an attempt. */
const HELD_ASK_MS = 1000;

/**
 * How soon to look again at a job a worker said it holds though its lease ran out (an advisory handled again,
 * a delivery of its last attempt redelivered).
 */
export const HELD_LOOK_AGAIN_MS = 5000;

/** How long after a holder's lease ends a delivery refused for it comes again (a nak of the lease's rest + this). */
export const PAST_LEASE_MS = 100;

/**
 * The jobs among `jobs` whose attempt a live worker still holds. A dead worker has no subscription left (NATS
 * answers "no responders" at once); a worker that does not answer within HELD_ASK_MS is taken for lost, as is
 * every job with NATS down.
 */
export async function heldByWorkers(d: { nats: Nats; names: Names }, jobs: readonly JobRow[]): Promise<Set<string>> {
  const answers = await Promise.all(
    jobs.map((job) =>
      d.nats.nc.request(d.names.heldSubject(job.id), heldAttemptBody(job), { timeout: HELD_ASK_MS }).then(
        () => job.id,
        () => null,
      ),
    ),
  );
  return new Set(answers.filter((id) => id !== null));
}
