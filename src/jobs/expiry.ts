/**
 * The expiry pass: jobs with a `startBy` (SubmitJobInput.startBy) still waiting once it has passed are FAILED
 * `expired: not started by …` (db/expiry.ts), their updates published, even when nothing pulls their messages
 * (no worker runs their type, or it is paused). Every API process runs a pass every `RELAY_INTERVAL_MS`,
 * timed from the end of the last (`repeatAfterEach`); several processes' passes race harmlessly, each job's
 * change guarded. A worker given an expired job's message ends it too (workers/settle.ts), and acks a
 * message delivered after the job expired. Jobs without a `startBy` are not in the pass's index, so it costs
 * them nothing.
 */
import { dueToExpire, expireJobs } from '../db/expiry.js';
import { orAfter, STOP_WAIT_MS } from '../deadline.js';
import { publishUpdate, updateFromJob } from '../progress/updates.js';
import { repeatAfterEach } from '../repeat.js';
import type { JobDeps } from './deps.js';

/** Jobs one statement of the pass expires. */
export const EXPIRY_BATCH = 500;

export type ExpiryDeps = Pick<JobDeps, 'sql' | 'nats' | 'names' | 'log'>;

export interface Expiry {
  /** One pass: every due job, batch by batch; answers how many it expired (tests; also run on the timer). */
  runOnce(): Promise<number>;
  stop(): Promise<void>;
}

/** Runs an expiry pass `intervalMs` after the end of the last one. */
export function startExpiry(d: ExpiryDeps, o: { intervalMs: number }): Expiry {
  let stopped = false;

  async function runOnce(): Promise<number> {
    let expired = 0;
    for (let full = true; full && !stopped; ) {
      const ids = await dueToExpire(d.sql, EXPIRY_BATCH);
      const jobs = (await expireJobs(d.sql, ids)).filter((j) => j !== null);
      for (const job of jobs) publishUpdate(d.nats.nc, d.names, updateFromJob(job));
      expired += jobs.length;
      // Fewer changed than found: another process (or a worker) took some; what is left is for the next pass.
      full = ids.length === EXPIRY_BATCH && jobs.length > 0;
    }
    if (expired) d.log.info({ expired }, 'expiry: jobs not started by their startBy are FAILED');
    return expired;
  }

  const passes = repeatAfterEach(o.intervalMs, () => runOnce().catch((e: unknown) => d.log.warn({ err: e }, 'expiry: pass failed; trying again at the next one')));

  return {
    runOnce,
    async stop() {
      stopped = true;
      await orAfter(passes.stop(), STOP_WAIT_MS, undefined);
    },
  };
}
