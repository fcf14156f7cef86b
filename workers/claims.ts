/**
 * A worker's claims: every claim made while one is being written goes into the next statement (group
 * commit), and the claims of one burst (a fetch's messages) wait for each other, so a fetch is one claim
 * statement and one commit. Each claimed job's RUNNING update is published once committed.
 */
import type { Sql } from '../src/db/client.js';
import { groupCommit } from '../src/db/group-commit.js';
import { isDataError } from '../src/errors.js';
import type { JobRow } from '../src/db/schema.js';
import { claimedWith, markRunningMany, type Claim } from '../src/db/transitions.js';
import type { Nats } from '../src/messaging/connect.js';
import type { Names } from '../src/messaging/names.js';
import { publishUpdate, updateFromJob } from '../src/progress/updates.js';
import type { Persist } from './persist.js';

/**
 * Claims a delivered job (its message's `id`, `series` and stream sequence) with a token of this claim's own
 * (its attempt's writes carry it: `Fence`); null: not this worker's to run.
 */
export type ClaimJob = (c: Claim & { token: string }) => Promise<JobRow | null>;

export function createClaims(d: { sql: Sql; nats: Nats; names: Names; persist: Persist }): ClaimJob {
  const { sql, nats, names, persist } = d;
  const claim = groupCommit(
    async (cs: Claim[]) => {
      const jobs = await markRunningMany(sql, cs);
      for (const job of jobs) if (job) publishUpdate(nats.nc, names, updateFromJob(job));
      return jobs;
    },
    // A claim PostgreSQL refuses as data (22xxx) does not take the others of its statement down with it.
    { maxSize: 500, gather: true, alone: isDataError },
  );

  /**
   * Claims a delivered job, retried while PostgreSQL is unreachable. A try that failed with its answer lost
   * (the connection dropped after the commit) may have claimed the job: the retry, refused by that claim (a
   * live lease), finds it by its token and goes on with it. Otherwise the job would sit RUNNING under a lease
   * nobody holds, and come back only once it ran out, an attempt used without running (with maxAttempts 1,
   * dead-lettered unrun).
   */
  return (c) => {
    let unsure = false;
    const mineAlready = async () => {
      const mine = await claimedWith(sql, c);
      if (mine) publishUpdate(nats.nc, names, updateFromJob(mine));
      return mine;
    };
    return persist('claim', async () => {
      // Looked for before claiming again too: once the lease of a claim whose answer was lost has run out
      // (a long outage), claiming again would succeed, and use up another attempt without running this one.
      if (unsure) {
        const mine = await mineAlready();
        if (mine) return mine;
      }
      try {
        const job = await claim(c);
        if (job || !unsure) return job;
      } catch (e) {
        unsure = true;
        throw e;
      }
      return mineAlready(); // refused by its own claim, committed only after the look-up above
    });
  };
}
