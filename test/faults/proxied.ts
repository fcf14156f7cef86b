/**
 * For the fault tests that cut the links of an API and a worker process to one service (PostgreSQL or NATS)
 * through a TCP proxy, the service itself staying up: the test env, the proxy, the two processes (killed
 * after the file), and the verdict every such test gives.
 */
import { afterAll, beforeAll, expect } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { EFFECTS_TABLE } from '../support/effect-job.js';
import { spawnApi, spawnWorker, type LongrunProcess } from '../support/processes.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
import { probeStreams } from '../support/streams.js';
import { names } from '../../src/messaging/names.js';
import { expectNothingLost, report, verify, type LoadResult } from './load.js';

const CONFIG = { ACK_WAIT_MS: '3000', WORKER_CONCURRENCY: '50', LOG_LEVEL: 'error' };

export interface ProxiedFault {
  env: TestEnv;
  proxy: TcpProxy;
  /** An API (no workers of its own) and a worker process, both reaching `service` through the proxy. */
  start(config?: Record<string, string>): Promise<{ api: LongrunProcess; worker: LongrunProcess }>;
  /**
   * Waits for the load's jobs and asserts what every such test does: each succeeded with its effect once, both
   * processes are up, the jobs table holds the load's jobs (and `otherJobs` more), and the stream empties.
   */
  expectEveryJobDone(name: string, load: LoadResult, since: number, otherJobs?: number): Promise<void>;
}

export function useProxiedFault(service: 'DATABASE_URL' | 'NATS_URL'): ProxiedFault {
  const procs: LongrunProcess[] = [];
  let through = '';
  const f: ProxiedFault = {
    env: undefined as unknown as TestEnv,
    proxy: undefined as unknown as TcpProxy,
    async start(config = {}) {
      if (procs.length) throw new Error('started already');
      // The test handler's side effect goes straight to PostgreSQL: a fault under its insert would leave the
      // test unable to tell whether it was written (it retries the insert), which is not what is tested here.
      const e = { ...f.env.env, ...CONFIG, ...config, [service]: through, EFFECTS_DATABASE_URL: f.env.databaseUrl };
      const api = await spawnApi({ ...e, WORKER_CONCURRENCY: '0' }, { withEffects: true });
      procs.push(api);
      const worker = await spawnWorker(e, { withEffects: true });
      procs.push(worker);
      return { api, worker };
    },
    async expectEveryJobDone(name, load, since, otherJobs = 0) {
      const v = await verify(f.env.sql, load, { timeoutMs: 240_000, since });
      report(name, v, load);
      expectNothingLost(v, load.accepted.size, expect);
      for (const p of procs) expect(p.child.exitCode).toBeNull();
      // Every job row is an accepted job (a refused submit wrote nothing), and the stream empties: the outbox
      // relay publishes again what a fault kept it from marking published, and the worker drops those messages
      // (their jobs are done) as they come.
      const [rows] = await f.env.sql`select count(*)::int as n from jobs`;
      expect(rows!.n).toBe(load.accepted.size + otherJobs);
      expect(await jobsLeftInStream(f.env)).toBe(0);
    },
  };
  beforeAll(async () => {
    f.env = await createTestEnv();
    await f.env.sql.unsafe(EFFECTS_TABLE);
    const proxied = await startTcpProxyFor(service === 'DATABASE_URL' ? f.env.databaseUrl : f.env.natsUrl);
    f.proxy = proxied.proxy;
    through = proxied.url;
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await f.proxy?.close();
    await f.env?.dispose();
  });
  return f;
}

/** Messages left in the jobs stream once it has had up to 30 s to empty (0: it did). */
async function jobsLeftInStream(env: TestEnv): Promise<number> {
  const probe = await probeStreams(env.natsUrl);
  try {
    let left = -1;
    for (let i = 0; i < 60 && left !== 0; i++) {
      left = (await probe.state(names(env.prefix).jobsStream)).messages;
      if (left) await new Promise((r) => setTimeout(r, 500));
    }
    return left;
  } finally {
    await probe.close();
  }
}
