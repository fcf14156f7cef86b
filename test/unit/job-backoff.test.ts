/** Retry delays at the edges of what a job type may set. */
import { expect, it } from 'vitest';
import { retryDelay } from '../../src/jobs/backoff.js';
import { MAX_DELAY_MS } from '../../src/jobs/definition.js';

it('a delay spread by its jitter past 2^31 - 1 ms is cut to that', () => {
  const policy = { baseMs: MAX_DELAY_MS, factor: 2, maxMs: MAX_DELAY_MS, jitter: 1 };
  expect(retryDelay(policy, 1, () => 0.999999)).toBe(MAX_DELAY_MS);
  expect(retryDelay(policy, 100, () => 0.75)).toBe(MAX_DELAY_MS);
  expect(retryDelay(policy, 1, () => 0)).toBe(0);
});

it('a base of 0 is 0 at every attempt, even where factor^n overflows to Infinity', () => {
  const policy = { baseMs: 0, factor: 1e10, maxMs: 60_000, jitter: 0.2 };
  for (const attempt of [1, 2, 40, 100]) expect(retryDelay(policy, attempt, () => 0.5)).toBe(0);
});
