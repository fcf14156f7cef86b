// @module-tag faults
/**
 * Every PostgreSQL connection of the API and worker processes reset (TCP RST, ECONNRESET: a failover, a cut
 * link) three times in the middle of 2,000 jobs, by a proxy between them and the server, which stays up:
 * statements and transactions under way fail and are retried (submits answer SERVICE_UNAVAILABLE, and the
 * client retries them with the same idempotency key); the pools reconnect; no connection is left waiting for
 * an answer that never comes; every job succeeds once, and nothing a failed transaction sent is committed.
 */
import { expect, it } from 'vitest';
import { submitLoad, untilJobs } from './load.js';
import { useProxiedFault } from './proxied.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);
const f = useProxiedFault('DATABASE_URL');

it('loses nothing, and no connection hangs, when every PostgreSQL connection is reset three times', async () => {
  const { api } = await f.start();
  let resets = 0;
  let lastResetAt = 0;
  const fault = (async () => {
    for (const share of [0.2, 0.45, 0.7]) {
      await untilJobs(f.env.sql, JOBS * share);
      f.proxy.reset();
      resets++;
      lastResetAt = Date.now();
      await new Promise((r) => setTimeout(r, 1000)); // the pools are back (or should be) before the next one
    }
  })();
  const load = await submitLoad({ urls: () => [api.url], count: JOBS, concurrency: 25, payload: (i) => ({ ms: i % 5 }) });
  await fault;
  expect(resets).toBe(3);
  expect(load.accepted.size).toBe(JOBS);
  await f.expectEveryJobDone('postgres-reset', load, lastResetAt);
});
