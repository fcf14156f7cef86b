/**
 * The rate-limit statements (src/db/rate-limits.ts) against PostgreSQL: a bucket grants at most `max` tokens
 * at once, also to many callers at the same moment; an empty one answers a positive wait, after which it
 * grants again; tokens a pull did not use are back at once; tokens a pull never settles (its worker died)
 * lapse after two lease periods. An admin's override on the row wins over the caller's limit, in take and in
 * settle; cleared, the caller's holds again, the wait the override left scaled to it.
 */
import { expect, it } from 'vitest';
import { clearRateLimitOverride, setRateLimitOverride, settleTokens, takeTokens, type Limit } from '../../src/db/rate-limits.js';
import { useTestDb } from '../support/app.js';

const t = useTestDb(8);
const limit: Limit = { max: 4, perMs: 1000, leaseMs: 60_000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('grants at most max at once, then nothing with a positive wait; after the wait it grants again', async () => {
  const first = await takeTokens(t.db.sql, 'test.a', 10, limit);
  expect(first.granted).toBe(4);
  const none = await takeTokens(t.db.sql, 'test.a', 10, limit);
  expect(none.granted).toBe(0);
  expect(none.waitMs).toBeGreaterThan(0);

  // The four were used: paid for from the settle, one every 250 ms; the next frees 250 ms after it.
  await settleTokens(t.db.sql, 'test.a', first, 4, limit);
  const paid = await takeTokens(t.db.sql, 'test.a', 10, limit);
  expect(paid.granted).toBe(0);
  expect(paid.waitMs).toBeGreaterThan(0);
  expect(paid.waitMs).toBeLessThanOrEqual(250);
  await sleep(paid.waitMs + 5);
  expect((await takeTokens(t.db.sql, 'test.a', 10, limit)).granted).toBe(1);
});

it('grants at most burst at once when the bucket is smaller than max, then one per emission interval', async () => {
  const even: Limit = { ...limit, burst: 1 };
  expect((await takeTokens(t.db.sql, 'test.e', 10, even)).granted).toBe(1);
  const none = await takeTokens(t.db.sql, 'test.e', 10, even);
  expect(none.granted).toBe(0);
  expect(none.waitMs).toBeGreaterThan(0);
});

it('grants max in all to many callers asking at the same moment', async () => {
  const grants = await Promise.all(Array.from({ length: 20 }, () => takeTokens(t.db.sql, 'test.b', 1, limit)));
  expect(grants.reduce((n, g) => n + g.granted, 0)).toBe(4);
  expect(grants.filter((g) => g.granted === 0).every((g) => g.waitMs > 0)).toBe(true);
});

it('gives back at once the tokens a pull did not use, and only those', async () => {
  const grant = await takeTokens(t.db.sql, 'test.c', 4, limit);
  expect(grant.granted).toBe(4);
  await settleTokens(t.db.sql, 'test.c', grant, 1, limit);
  const next = await takeTokens(t.db.sql, 'test.c', 4, limit);
  expect(next.granted).toBe(3);
  await settleTokens(t.db.sql, 'test.c', next, 0, limit);
  expect((await takeTokens(t.db.sql, 'test.c', 4, limit)).granted).toBe(3);
});

it('stops counting tokens never settled two lease periods on, and a late settle then only pays', async () => {
  const short: Limit = { ...limit, leaseMs: 1000 };
  const lost = await takeTokens(t.db.sql, 'test.d', 4, short);
  expect(lost.granted).toBe(4);
  expect((await takeTokens(t.db.sql, 'test.d', 4, short)).granted).toBe(0);
  await sleep(2 * short.leaseMs + 20);
  const again = await takeTokens(t.db.sql, 'test.d', 4, short);
  expect(again.granted).toBe(4);
  // The lost grant's settle comes late: it does not free the new grant's tokens.
  await settleTokens(t.db.sql, 'test.d', lost, 0, short);
  expect((await takeTokens(t.db.sql, 'test.d', 4, short)).granted).toBe(0);
});

it("grants and charges at the row's override instead of the caller's limit, until it is cleared", async () => {
  await setRateLimitOverride(t.db.sql, 'test.o', { max: 1, perMs: 3_600_000, burst: 1 }, limit);
  const one = await takeTokens(t.db.sql, 'test.o', 10, limit);
  expect(one.granted).toBe(1);
  const none = await takeTokens(t.db.sql, 'test.o', 10, limit);
  expect(none.granted).toBe(0);
  expect(none.waitMs).toBeGreaterThan(1000); // not the caller's 250 ms
  // Paid for at the override's hour; cleared, the hour's wait is scaled to the caller's 250 ms: tokens again.
  await settleTokens(t.db.sql, 'test.o', one, 1, limit);
  expect((await takeTokens(t.db.sql, 'test.o', 10, limit)).granted).toBe(0);
  await clearRateLimitOverride(t.db.sql, 'test.o', limit);
  // Owed now: one start at 250 ms, so 3 granted (4 once those 250 ms are past), not none for an hour.
  expect((await takeTokens(t.db.sql, 'test.o', 10, limit)).granted).toBeGreaterThanOrEqual(3);
});
