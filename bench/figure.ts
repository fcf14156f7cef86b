/** What a phase reports: one table row and one JSON line. */
import type { Stack } from './stack.js';
import type { Child } from './child.js';
import { cpuMark, type CpuResult } from './cpu.js';
import { resetJobs } from './verify.js';

export interface Figure {
  /** Stable key of the JSON line, e.g. `submit_1by1`. */
  figure: string;
  /** Table label. */
  label: string;
  /** Table value, e.g. `2,104 jobs/s` or `n/a`. */
  value: string;
  /** Everything else worth keeping (counts, breakdowns). */
  detail: Record<string, unknown>;
}

/** Bench options (see run.ts for the flags). */
export interface Options {
  n: number;
  concurrency: number;
  inFlight: number;
  bulkBatch: number;
  trickleN: number;
  trickleRate: number;
  warmup: number;
  progressJobs: number;
  progressUpdates: number;
  progressIntervalMs: number;
  fanoutSubs: number;
  fanoutConns: number;
  fanoutJobs: number;
  fanoutPerSecond: number;
  fanoutSeconds: number;
  /** Worker threads the fan-out subscribers are spread over. */
  fanoutThreads: number;
  timeoutMs: number;
  prefix: string;
  database: string;
  /** Finished jobs put in the database before the first part (bench/prefill.ts); 0: the parts start on empty tables. */
  prefill: number;
}

export interface PhaseContext {
  stack: Stack;
  o: Options;
  log(msg: string): void;
}

export const fmt = (x: number, digits = 0) => x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** CPU counting over the API, the given workers, the bench database's backends, nats-server and us. */
export function markCpu(ctx: PhaseContext, workers: () => Child[]) {
  return cpuMark({
    api: ctx.stack.api.pid,
    workers: () => workers().map((w) => w.pid),
    database: ctx.o.database,
    excludePids: [ctx.stack.ownBackendPid],
  });
}

/** CPU ms per job, with the per-group breakdown. */
export function perJob(cpu: CpuResult, n: number) {
  const r = (x: number) => Math.round((x / n) * 1000) / 1000;
  return {
    cpu_ms_per_job: r(cpu.totalMs),
    by_process_ms_per_job: Object.fromEntries(Object.entries(cpu.ms).map(([k, v]) => [k, r(v)])),
    cpu_ms_total: cpu.ms,
    writes_per_job: Object.fromEntries(Object.entries(cpu.writes).map(([k, v]) => [k, r(v)])),
    reads_per_job: Object.fromEntries(Object.entries(cpu.reads).map(([k, v]) => [k, r(v)])),
  };
}

/** Empties the tables and the stream, then starts a worker process and its pool; returns it with its clock offset. */
export async function freshWorker(ctx: PhaseContext): Promise<{ w: Child; offsetMs: number; rttMs: number }> {
  await resetJobs(ctx.stack, ctx.o);
  const w = await ctx.stack.startWorker();
  const clock = await w.clockOffset();
  w.send({ type: 'start' });
  await w.wait('started');
  return { w, ...clock };
}
