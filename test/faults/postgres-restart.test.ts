// @module-tag faults
/**
 * PostgreSQL restarted (immediate stop: crash-like) in the middle of 2,000 jobs: submits during the outage
 * answer SERVICE_UNAVAILABLE and publish nothing (the client retries them with the same idempotency key);
 * workers and the API reconnect; progress and terminal writes that failed are retried; every job succeeds once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { EFFECTS_TABLE, effectHandler, effectJob } from '../support/effect-job.js';
import { startPrivatePostgres, type PrivatePostgres } from '../setup/services.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { expectNothingLost, report, submitLoad, verify } from './load.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);

let pg: PrivatePostgres;
let env: TestEnv;
let t: TestApp;
beforeAll(async () => {
  pg = await startPrivatePostgres();
  env = await createTestEnv({ adminUrl: pg.url() });
  await env.sql.unsafe(EFFECTS_TABLE);
  process.env.EFFECTS_DATABASE_URL = env.databaseUrl; // the handlers run in this process
  t = await startTestApp({
    env,
    types: [...BUILTIN_JOB_TYPES, effectJob],
    handlers: [...BUILTIN_HANDLERS, effectHandler],
    config: { ACK_WAIT_MS: '3000', WORKER_CONCURRENCY: '50', LOG_LEVEL: 'error' },
  });
});
afterAll(async () => {
  await t?.dispose();
  await env?.dispose().catch(() => {});
  await pg?.dispose();
});

it('loses nothing across a PostgreSQL restart', async () => {
  let restartedAt = 0;
  const fault = (async () => {
    while ((await env.sql`select count(*)::int as n from jobs`)[0]!.n < JOBS * 0.3) await new Promise((r) => setTimeout(r, 100));
    await pg.stop('immediate');
    await new Promise((r) => setTimeout(r, 1500));
    await pg.start();
    restartedAt = Date.now();
  })();
  const load = await submitLoad({ urls: () => [t.url], count: JOBS, concurrency: 25, payload: (i) => ({ ms: i % 5 }) });
  await fault;
  const v = await verify(env.sql, load, { timeoutMs: 120_000, since: restartedAt });
  report('postgres-restart', v, load);
  expect(load.errors.get('SERVICE_UNAVAILABLE') ?? 0).toBeGreaterThan(0);
  expectNothingLost(v, JOBS, expect);
  // Nothing was published for a refused submit: every message the stream took belongs to an accepted job.
  const info = await t.app.deps.nats.jsm.streams.info(t.app.deps.names.jobsStream);
  expect(info.state.messages).toBe(0);
  const [rows] = await env.sql`select count(*)::int as n from jobs`;
  expect(rows!.n).toBe(JOBS);
});
