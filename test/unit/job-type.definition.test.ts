/**
 * defineJobType refuses, where the type is written, settings every submit of the type would trip over: a
 * timeout the `timeout_ms` column (and setTimeout) cannot hold, an attempt count outside 1..100, a backoff
 * whose delay the RETRYING write cannot hold, a rate limit outside its ranges; and defineHandler a concurrency
 * outside 1..1000.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, type BackoffPolicy, type RateLimit } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';

const define = (o: { timeoutMs?: number; maxAttempts?: number; backoff?: Partial<BackoffPolicy>; rateLimit?: RateLimit }) =>
  defineJobType({ name: 'test.settings', description: 'settings', payload: z.object({}), ...o });

describe('defineJobType', () => {
  it('accepts timeouts from 100 ms to 2^31 - 1 ms and 1..100 attempts', () => {
    expect(define({ timeoutMs: 100, maxAttempts: 1 }).timeoutMs).toBe(100);
    expect(define({ timeoutMs: 2_147_483_647, maxAttempts: 100 }).timeoutMs).toBe(2_147_483_647);
  });

  it('refuses a timeout over 24.8 days (a 30-day one made every submit of the type an internal error), or not an integer', () => {
    for (const timeoutMs of [30 * 86_400_000, 2_147_483_648, Infinity, 99, 1000.5]) {
      expect(() => define({ timeoutMs })).toThrow(/^test\.settings: timeoutMs must be an integer from 100 to 2147483647/);
    }
  });

  it('refuses maxAttempts outside 1..100 (0 made every submit without maxAttempts OUT_OF_RANGE)', () => {
    for (const maxAttempts of [0, -1, 1.5]) {
      expect(() => define({ maxAttempts })).toThrow(/^test\.settings: maxAttempts must be an integer from 1 to 100/);
    }
  });

  it('accepts backoffs with delays up to 2^31 - 1 ms, a factor of 1 or more and a jitter of 0..1', () => {
    expect(define({ backoff: { baseMs: 0, factor: 1, maxMs: 0, jitter: 0 } }).backoff).toEqual({ baseMs: 0, factor: 1, maxMs: 0, jitter: 0 });
    expect(define({ backoff: { baseMs: 500, factor: 1.5, maxMs: 2_147_483_647, jitter: 1 } }).backoff.maxMs).toBe(2_147_483_647);
  });

  it('refuses a backoff delay over 24.8 days (the RETRYING write of such a delay failed every attempt), or a bad factor or jitter', () => {
    for (const backoff of [{ maxMs: 30 * 86_400_000 }, { maxMs: Infinity }, { baseMs: -1 }, { baseMs: 2.5 }, { baseMs: 3_000_000_000 }]) {
      expect(() => define({ backoff })).toThrow(/^test\.settings: backoff baseMs and maxMs must be integers from 0 to 2147483647/);
    }
    for (const backoff of [{ factor: 0.5 }, { factor: NaN }, { factor: Infinity }]) {
      expect(() => define({ backoff })).toThrow(/^test\.settings: backoff factor must be a number from 1 up/);
    }
    for (const backoff of [{ jitter: -0.1 }, { jitter: 1.5 }, { jitter: NaN }]) {
      expect(() => define({ backoff })).toThrow(/^test\.settings: backoff jitter must be a fraction from 0 to 1/);
    }
  });

  it('takes a rate limit of 1..100000 starts per 1 ms..1 day with a burst of 1..max (default max), and none by default', () => {
    expect(define({}).rateLimit).toBeUndefined();
    expect(define({ rateLimit: { max: 1, perMs: 1 } }).rateLimit).toEqual({ max: 1, perMs: 1, burst: 1 });
    expect(define({ rateLimit: { max: 100_000, perMs: 86_400_000 } }).rateLimit).toEqual({ max: 100_000, perMs: 86_400_000, burst: 100_000 });
    expect(define({ rateLimit: { max: 10, perMs: 1000, burst: 1 } }).rateLimit).toEqual({ max: 10, perMs: 1000, burst: 1 });
    expect(define({ rateLimit: { max: 10, perMs: 1000, burst: 10 } }).rateLimit).toEqual({ max: 10, perMs: 1000, burst: 10 });
  });

  it('refuses a burst below 1, above its max or not an integer, naming the type', () => {
    for (const burst of [0, 11, 2.5, NaN]) {
      expect(() => define({ rateLimit: { max: 10, perMs: 1000, burst } })).toThrow(/^test\.settings: rateLimit\.burst must be an integer from 1 to its max \(10\)$/);
    }
  });

  it('refuses a rate limit whose max or perMs is out of range or not an integer, naming the type', () => {
    const bad: RateLimit[] = [
      { max: 0, perMs: 1000 },
      { max: 100_001, perMs: 1000 },
      { max: 2.5, perMs: 1000 },
      { max: NaN, perMs: 1000 },
      { max: 10, perMs: 0 },
      { max: 10, perMs: 86_400_001 },
      { max: 10, perMs: 10.5 },
      { max: 10, perMs: Infinity },
    ];
    for (const rateLimit of bad) {
      expect(() => define({ rateLimit })).toThrow(
        /^test\.settings: rateLimit needs integers max from 1 to 100000 and perMs from 1 to 86400000 \(a day\)$/,
      );
    }
  });
});

describe('defineHandler', () => {
  it("takes a concurrency of 1..1000 slots per worker process, or none (WORKER_CONCURRENCY's), and refuses others where it is written", () => {
    const run = () => null;
    expect(defineHandler(define({}), run).concurrency).toBeUndefined();
    expect(defineHandler(define({}), run, { concurrency: 1 }).concurrency).toBe(1);
    expect(defineHandler(define({}), run, { concurrency: 1000 }).concurrency).toBe(1000);
    for (const concurrency of [0, -1, 1001, 2.5, NaN, Infinity]) {
      expect(() => defineHandler(define({}), run, { concurrency })).toThrow("test.settings: a handler's concurrency must be an integer from 1 to 1000");
    }
  });
});
