/**
 * The job types that ship with longrun. A deployment passes its own list (plus these, if it likes) to
 * `startApp` / `startWorkerPool`.
 */
import { z } from 'zod';
import { defineJobType, type JobType } from './definition.js';

/** Sleeps `ms` in `steps` steps, reporting progress after each. */
export const sleepJob = defineJobType({
  name: 'demo.sleep',
  description: 'Sleeps `ms` milliseconds in `steps` steps, reporting progress after each step.',
  payload: z.strictObject({
    ms: z.number().int().min(0).max(3_600_000),
    steps: z.number().int().min(0).max(10_000).default(10),
  }),
  // Longer than the longest sleep it takes (an hour), which the default 10 minutes cut short every attempt.
  timeoutMs: 3_660_000,
});

/** Fails its first `failures` attempts (or always, permanently). */
export const flakyJob = defineJobType({
  name: 'demo.flaky',
  description: 'Fails the first `failures` attempts with a retryable error, or every attempt with a permanent one.',
  payload: z.strictObject({
    failures: z.number().int().min(0).max(1000).default(1),
    permanent: z.boolean().default(false),
    /** Milliseconds each attempt takes before it fails or succeeds. */
    ms: z.number().int().min(0).max(60_000).default(0),
  }),
  maxAttempts: 5,
  backoff: { baseMs: 200, factor: 2, maxMs: 10_000, jitter: 0.2 },
});

/** SHA-256 over `mib` MiB of generated data, in 1 MiB chunks. */
export const hashJob = defineJobType({
  name: 'demo.hash',
  description: 'Computes the SHA-256 of `mib` MiB of deterministic generated data (seeded), in 1 MiB chunks.',
  payload: z.strictObject({
    mib: z.number().int().min(1).max(4096),
    seed: z.string().max(100).default('longrun'),
  }),
  timeoutMs: 3_600_000,
});

/** Does nothing (benchmarks). */
export const noopJob = defineJobType({
  name: 'demo.noop',
  description: 'Does nothing and succeeds; for benchmarks.',
  payload: z.object({}).passthrough(),
});

export const BUILTIN_JOB_TYPES: readonly JobType<any>[] = [sleepJob, flakyJob, hashJob, noopJob];
