// @module-tag faults
/**
 * Every PostgreSQL connection of the API and worker processes reset (TCP RST, ECONNRESET: a failover, a cut
 * link) three times in the middle of 2,000 jobs, by a proxy between them and the server, which stays up:
 * statements and transactions under way fail and are retried (submits answer SERVICE_UNAVAILABLE, and the
 * client retries them with the same idempotency key); the pools reconnect; no connection is left waiting for
 * an answer that never comes; every job succeeds once, and nothing a failed transaction sent is committed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { EFFECTS_TABLE } from '../support/effect-job.js';
import { spawnApi, spawnWorker, type LongrunProcess } from '../support/processes.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
import { probeStreams } from '../support/streams.js';
import { names } from '../../src/messaging/names.js';
import { expectNothingLost, report, submitLoad, verify } from './load.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);
const CONFIG = { ACK_WAIT_MS: '3000', WORKER_CONCURRENCY: '50', LOG_LEVEL: 'error' };

let env: TestEnv;
let proxy: TcpProxy;
let proxied: string;
const procs: LongrunProcess[] = [];
beforeAll(async () => {
  env = await createTestEnv();
  await env.sql.unsafe(EFFECTS_TABLE);
  ({ proxy, url: proxied } = await startTcpProxyFor(env.databaseUrl));
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await proxy?.close();
  await env?.dispose();
});

it('loses nothing, and no connection hangs, when every PostgreSQL connection is reset three times', async () => {
  // The test handler's side effect goes straight to PostgreSQL: a reset under its insert would leave the
  // test unable to tell whether it was written (it retries the insert), which is not what is tested here.
  const through = { ...env.env, ...CONFIG, DATABASE_URL: proxied, EFFECTS_DATABASE_URL: env.databaseUrl };
  const api = await spawnApi({ ...through, WORKER_CONCURRENCY: '0' }, { withEffects: true });
  const worker = await spawnWorker(through, { withEffects: true });
  procs.push(api, worker);
  let resets = 0;
  let lastResetAt = 0;
  const fault = (async () => {
    for (const share of [0.2, 0.45, 0.7]) {
      while ((await env.sql`select count(*)::int as n from jobs`)[0]!.n < JOBS * share) await new Promise((r) => setTimeout(r, 50));
      proxy.reset();
      resets++;
      lastResetAt = Date.now();
      await new Promise((r) => setTimeout(r, 1000)); // the pools are back (or should be) before the next one
    }
  })();
  const load = await submitLoad({ urls: () => [api.url], count: JOBS, concurrency: 25, payload: (i) => ({ ms: i % 5 }) });
  await fault;
  const v = await verify(env.sql, load, { timeoutMs: 240_000, since: lastResetAt });
  report('postgres-reset', v, load);
  expect(resets).toBe(3);
  expectNothingLost(v, JOBS, expect);
  expect(api.child.exitCode).toBeNull();
  expect(worker.child.exitCode).toBeNull();
  // Every job row is an accepted job (a refused submit wrote nothing), and the stream empties: the outbox
  // relay publishes again what a reset kept it from marking published, and the worker drops those messages
  // (their jobs are done) as they come.
  const [rows] = await env.sql`select count(*)::int as n from jobs`;
  expect(rows!.n).toBe(JOBS);
  const probe = await probeStreams(env.natsUrl);
  try {
    let left = -1;
    for (let i = 0; i < 60 && left !== 0; i++) {
      left = (await probe.state(names(env.prefix).jobsStream)).messages;
      if (left) await new Promise((r) => setTimeout(r, 500));
    }
    expect(left).toBe(0);
  } finally {
    await probe.close();
  }
});
