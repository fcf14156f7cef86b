// @module-tag faults
/**
 * Every PostgreSQL connection of the API and worker processes silently lost in the middle of 2,000 jobs: a proxy
 * between them and the server stops forwarding without closing anything (a NAT or firewall that dropped the
 * flows; no reset reaches either side, so TCP alone would notice only after many minutes, and here never). The
 * statements out on them get no answer: after DATABASE_SILENCE_TIMEOUT_MS (3 s here) each such connection is
 * closed and its statements fail as on a reset (submits answer SERVICE_UNAVAILABLE and the client retries them
 * with the same idempotency key); a server session a lost connection left inside a transaction is ended after
 * as long, so its locks are let go; the pools reconnect (new connections pass); every job succeeds once.
 */
import { expect, it } from 'vitest';
import { submitLoad, untilJobs } from './load.js';
import { useProxiedFault } from './proxied.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);
const f = useProxiedFault('DATABASE_URL');

it('loses nothing, and no process stalls, when every PostgreSQL connection goes silent', async () => {
  const { api } = await f.start({ DATABASE_SILENCE_TIMEOUT_MS: '3000' });
  let lostAt = 0;
  const fault = (async () => {
    await untilJobs(f.env.sql, JOBS * 0.3);
    f.proxy.freeze();
    lostAt = Date.now();
  })();
  const load = await submitLoad({ urls: () => [api.url], count: JOBS, concurrency: 25, payload: (i) => ({ ms: i % 5 }), deadlineMs: 120_000 });
  await fault;
  expect(lostAt).toBeGreaterThan(0);
  expect(load.accepted.size).toBe(JOBS);
  await f.expectEveryJobDone('postgres-silent', load, lostAt);
});
