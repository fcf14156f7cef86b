// @module-tag faults
/**
 * 2,000 jobs while worker processes are SIGKILLed and restarted again and again: every job succeeds, each
 * succeeding attempt's side effect happens exactly once, nothing is lost or stuck.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { spawnApi, spawnWorker, type LongrunProcess } from '../support/processes.js';
import { EFFECTS_TABLE } from '../support/effect-job.js';
import { expectNothingLost, report, submitLoad, verify } from './load.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);
const CONFIG = { ACK_WAIT_MS: '2000', SHUTDOWN_GRACE_MS: '0', WORKER_CONCURRENCY: '20', LOG_LEVEL: 'warn' };

let env: TestEnv;
let api: LongrunProcess;
const workers: LongrunProcess[] = [];
beforeAll(async () => {
  env = await createTestEnv();
  await env.sql.unsafe(EFFECTS_TABLE);
  api = await spawnApi({ ...env.env, ...CONFIG, WORKER_CONCURRENCY: '0' }, { withEffects: true });
});
afterAll(async () => {
  for (const w of workers) await w.kill('SIGKILL');
  await api?.kill('SIGTERM');
  await env?.dispose();
});

it('loses nothing and duplicates no side effect while workers are killed repeatedly', async () => {
  const start = () => spawnWorker({ ...env.env, ...CONFIG }, { withEffects: true });
  workers.push(await start(), await start());
  let killing = true;
  let kills = 0;
  const killer = (async () => {
    while (killing) {
      await new Promise((r) => setTimeout(r, 700));
      if (!killing) break;
      const victim = workers.shift()!;
      await victim.kill('SIGKILL');
      kills++;
      workers.push(await start());
    }
  })();

  const load = await submitLoad({ urls: () => [api.url], count: JOBS, concurrency: 25, payload: (i) => ({ ms: 5 + (i % 20) }) });
  // Keep killing until most of the backlog has gone through the pool, and at least a few kills happened.
  const until = Date.now() + 120_000;
  while (Date.now() < until) {
    const [row] = await env.sql`select count(*)::int as n from jobs where state = 'SUCCEEDED'`;
    if (row!.n > JOBS * 0.8 && kills >= 3) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  killing = false;
  await killer;
  const since = Date.now();
  const v = await verify(env.sql, load, { timeoutMs: 240_000, since });
  report(`worker-kill (${kills} kills)`, v, load);
  expect(kills).toBeGreaterThanOrEqual(3);
  expectNothingLost(v, JOBS, expect);
});
