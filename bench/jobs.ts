/**
 * Bench-only job types and their handlers. They stamp the worker's clock (epoch ms with sub-ms resolution:
 * `performance.timeOrigin + performance.now()`) so the load generator can compute cross-process latencies.
 * Every process of the bench runs on one machine, so these clocks are comparable; the harness also
 * measures the worker↔load-generator offset over IPC and reports it.
 */
import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../src/jobs/catalog.js';
import { defineJobType, type JobType } from '../src/jobs/definition.js';
import { defineHandler, sleep, type BoundHandler } from '../workers/handler.js';
import { BUILTIN_HANDLERS } from '../workers/registry.js';

/** Epoch milliseconds with sub-millisecond resolution. */
export const now = (): number => performance.timeOrigin + performance.now();

/** Returns `{ t }`: when the handler started, on the worker's clock. */
export const markJob = defineJobType({
  name: 'bench.mark',
  description: 'Benchmark: records when the handler started (result.t, epoch ms).',
  payload: z.object({}).passthrough(),
});

/** Reports progress `updates` times, every `intervalMs`, after `delayMs`; each message is `t=<epoch ms>`. */
export const progressJob = defineJobType({
  name: 'bench.progress',
  description: 'Benchmark: reports progress with the send time in the message.',
  payload: z.object({
    updates: z.number().int().min(1).max(100_000),
    intervalMs: z.number().int().min(1).max(60_000),
    delayMs: z.number().int().min(0).max(600_000).default(0),
  }),
});

const markHandler = defineHandler(markJob, () => ({ t: now() }));

const progressHandler = defineHandler(progressJob, async ({ updates, intervalMs, delayMs }, ctx) => {
  if (delayMs) await sleep(delayMs, ctx.signal);
  for (let i = 1; i <= updates; i++) {
    await sleep(intervalMs, ctx.signal);
    ctx.progress((100 * i) / updates, `t=${now()}`);
  }
  return null;
});

/** Types the bench API and worker both register (the API validates submits against them). */
export const BENCH_TYPES: readonly JobType<any>[] = [...BUILTIN_JOB_TYPES, markJob, progressJob];
export const BENCH_HANDLERS: readonly BoundHandler[] = [...BUILTIN_HANDLERS, markHandler, progressHandler];
