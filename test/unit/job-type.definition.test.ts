/**
 * defineJobType refuses, where the type is written, settings every submit of the type would trip over: a
 * timeout the `timeout_ms` column (and setTimeout) cannot hold, an attempt count outside 1..100.
 */
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';

const define = (o: { timeoutMs?: number; maxAttempts?: number }) =>
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
});
