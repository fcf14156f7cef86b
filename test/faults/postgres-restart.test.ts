// @module-tag faults
/**
 * PostgreSQL restarted (immediate stop: crash-like) in the middle of 2,000 jobs, with the API and a worker
 * running as their own processes: submits during the outage answer SERVICE_UNAVAILABLE and publish nothing
 * (the client retries them with the same idempotency key); the processes stay up and reconnect; progress
 * and terminal writes that failed are retried; every job succeeds once.
 */
import { beforeAll, expect, it } from 'vitest';
import { EFFECTS_TABLE } from '../support/effect-job.js';
import { spawnApi, spawnWorker } from '../support/processes.js';
import { probeStreams } from '../support/streams.js';
import { useEnvOnPrivatePostgres } from '../support/private-postgres-env.js';
import { names } from '../../src/messaging/names.js';
import { expectNothingLost, report, submitLoad, untilJobs, verify } from './load.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);
const CONFIG = { ACK_WAIT_MS: '3000', WORKER_CONCURRENCY: '50', LOG_LEVEL: 'warn' };

const services = useEnvOnPrivatePostgres();
beforeAll(async () => {
  await services.env.sql.unsafe(EFFECTS_TABLE);
});

it('loses nothing across a PostgreSQL restart', async () => {
  const api = await spawnApi({ ...services.env.env, ...CONFIG, WORKER_CONCURRENCY: '0' }, { withEffects: true });
  const worker = await spawnWorker({ ...services.env.env, ...CONFIG }, { withEffects: true });
  services.procs.push(api, worker);
  let restartedAt = 0;
  const fault = (async () => {
    await untilJobs(services.env.sql, JOBS * 0.3);
    await services.pg.stop('immediate');
    await new Promise((r) => setTimeout(r, 1500));
    await services.pg.start();
    restartedAt = Date.now();
  })();
  const load = await submitLoad({ urls: () => [api.url], count: JOBS, concurrency: 25, payload: (i) => ({ ms: i % 5 }) });
  await fault;
  const v = await verify(services.env.sql, load, { timeoutMs: 240_000, since: restartedAt });
  report('postgres-restart', v, load);
  expect(load.errors.get('SERVICE_UNAVAILABLE') ?? 0).toBeGreaterThan(0);
  expectNothingLost(v, JOBS, expect);
  // Both processes rode it out.
  expect(api.child.exitCode).toBeNull();
  expect(worker.child.exitCode).toBeNull();
  // Nothing was published for a refused submit: every job row is an accepted job, and the stream is empty.
  const [rows] = await services.env.sql`select count(*)::int as n from jobs`;
  expect(rows!.n).toBe(JOBS);
  const probe = await probeStreams(services.env.natsUrl);
  try {
    expect((await probe.state(names(services.env.prefix).jobsStream)).messages).toBe(0);
  } finally {
    await probe.close();
  }
});
