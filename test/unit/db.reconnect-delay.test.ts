/**
 * A pool's connection waits at most a second before it reconnects, however many failures the pool has
 * counted: postgres.js' own delay grows to 20 s (3^failures / 100 s), so a reset of every connection at once,
 * or a few seconds of PostgreSQL down, kept connections away up to 20 s after the server was back, with
 * statements waiting on them (bench/pg-reconnect.ts measures it). Every pool we open takes the delay.
 */
import postgres from 'postgres';
import { expect, it } from 'vitest';
import { pgOptions, RECONNECT_MAX_S, reconnectDelaySeconds } from '../../src/db/client.js';

it('grows with the failures as the driver does, and never past a second', () => {
  for (let failures = 0; failures <= 100; failures++) {
    for (let i = 0; i < 50; i++) {
      const s = reconnectDelaySeconds(failures);
      expect(s).toBeGreaterThan(0);
      expect(s).toBeLessThanOrEqual(RECONNECT_MAX_S);
      expect(s).toBeLessThanOrEqual(3 ** failures / 100);
      expect(s).toBeGreaterThanOrEqual(Math.min(3 ** failures / 100, RECONNECT_MAX_S) / 2);
    }
  }
  expect(RECONNECT_MAX_S).toBe(1);
});

it('has jitter, so the connections of a pool reset at once do not all come back at the same instant', () => {
  const delays = Array.from({ length: 200 }, () => reconnectDelaySeconds(10));
  expect(new Set(delays).size).toBeGreaterThan(100);
  expect(Math.min(...delays)).toBeLessThan(0.6);
  expect(Math.max(...delays)).toBeGreaterThan(0.9);
});

it('is the delay of every pool opened with pgOptions (the driver takes it)', async () => {
  const sql = postgres('postgres://postgres@127.0.0.1:5432/postgres', pgOptions(1));
  try {
    expect((sql.options as unknown as { backoff: unknown }).backoff).toBe(reconnectDelaySeconds);
  } finally {
    await sql.end({ timeout: 1 });
  }
});
