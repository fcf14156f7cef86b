// @module-tag faults
/**
 * An API process SIGKILLed between committing a submit and publishing it: the client retries with its
 * idempotency key on another API process and gets the committed job; that process's outbox relay publishes
 * the orphaned entry; every job runs exactly once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { spawnApi, spawnWorker, type LongrunProcess } from '../support/processes.js';
import { EFFECTS_TABLE } from '../support/effect-job.js';
import { expectNothingLost, report, submitLoad, verify } from './load.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);
const CONFIG = { ACK_WAIT_MS: '3000', LOG_LEVEL: 'warn', RELAY_INTERVAL_MS: '250' };

let env: TestEnv;
const procs: LongrunProcess[] = [];
beforeAll(async () => {
  env = await createTestEnv();
  await env.sql.unsafe(EFFECTS_TABLE);
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await env?.dispose();
});

it('loses no job when an API process dies between commit and publish', async () => {
  const doomed = await spawnApi({ ...env.env, ...CONFIG, LONGRUN_FAULTS: 'after-commit-before-publish@400' }, { withEffects: true });
  const survivor = await spawnApi({ ...env.env, ...CONFIG }, { withEffects: true });
  const worker = await spawnWorker({ ...env.env, ...CONFIG, WORKER_CONCURRENCY: '50' }, { withEffects: true });
  procs.push(doomed, survivor, worker);
  let doomedAlive = true;
  void doomed.exited.then(() => (doomedAlive = false));

  const load = await submitLoad({
    urls: () => (doomedAlive ? [doomed.url, survivor.url] : [survivor.url]),
    count: JOBS,
    concurrency: 20,
  });
  const died = await doomed.exited;
  expect(died.signal).toBe('SIGKILL');
  const v = await verify(env.sql, load, { timeoutMs: 240_000, since: Date.now() });
  report('api-kill', v, load);
  expect(load.retries).toBeGreaterThan(0); // the calls in flight on the killed process failed and were retried
  expectNothingLost(v, JOBS, expect);
  // Every entry gets marked published: by the process that published it, or by the survivor's relay.
  let orphans = -1;
  for (let i = 0; i < 100 && orphans !== 0; i++) {
    orphans = (await env.sql`select count(*)::int as n from outbox where published_at is null`)[0]!.n;
    if (orphans) await new Promise((r) => setTimeout(r, 200));
  }
  if (orphans) console.log(survivor.output().slice(-3000));
  expect(orphans).toBe(0);
});
