/** newJobId: RFC 9562 version 7 layout (time, version, variant) for any millisecond, and ids that differ. */
import { expect, it } from 'vitest';
import { newJobId } from '../../src/jobs/job-id.js';

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

it('carries the given millisecond in its first 48 bits, across the 32-bit boundaries', () => {
  for (const ms of [0, 1, 0xffff, 0x10000, 2 ** 32 - 1, 2 ** 32, Date.UTC(2026, 11, 6, 17, 40, 0, 123), 2 ** 48 - 1]) {
    const id = newJobId(ms);
    expect(id).toMatch(V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(ms);
  }
});

it('makes different ids in one millisecond, past its pool of random bytes', () => {
  const ids = Array.from({ length: 5000 }, () => newJobId(1_800_000_000_000));
  expect(new Set(ids).size).toBe(5000);
  for (const id of ids) expect(id).toMatch(V7);
});
