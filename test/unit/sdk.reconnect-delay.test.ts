/**
 * The SDK's wait before a reconnect (and before a `jobUpdates` gap that follows a gap) has jitter: a random
 * one between half and the whole of `reconnectDelayMs` doubled per try in a row, never over 5 s. Without it
 * every client of a restarted server came back at the same instants (a thundering herd).
 */
import { expect, it } from 'vitest';
import { reconnectDelay } from '../../sdk/reconnection.js';

it('waits between half and the whole of the doubling step, at most 5 s', () => {
  const steps = [250, 500, 1000, 2000, 4000, 5000, 5000];
  steps.forEach((step, i) => {
    expect(reconnectDelay(i + 1, 250, () => 0)).toBe(step / 2);
    expect(reconnectDelay(i + 1, 250, () => 0.5)).toBe((step * 3) / 4);
    expect(reconnectDelay(i + 1, 250, () => 1 - Number.EPSILON)).toBeCloseTo(step);
  });
  expect(reconnectDelay(40, 250, () => 1 - Number.EPSILON)).toBeLessThanOrEqual(5000);
  expect(reconnectDelay(3, 50, () => 0)).toBe(100);
});

it('spreads the clients that reconnect on the same try', () => {
  const delays = Array.from({ length: 200 }, () => reconnectDelay(2, 250));
  for (const d of delays) {
    expect(d).toBeGreaterThanOrEqual(250);
    expect(d).toBeLessThan(500);
  }
  expect(new Set(delays).size).toBeGreaterThan(100);
  expect(Math.min(...delays)).toBeLessThan(300);
  expect(Math.max(...delays)).toBeGreaterThan(450);
});
