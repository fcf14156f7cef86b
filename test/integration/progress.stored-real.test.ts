/**
 * `asStoredReal` (db/attempts.ts) answers what PostgreSQL stores in a `real` column and prints back, so a
 * worker's live progress update carries the value its history row replays: checked against PostgreSQL for
 * thousands of values (uniform shares, fractions such as 100 / 3, tiny and whole ones, and float4s exactly
 * halfway between two shortest decimals, such as 22.6015625, which PostgreSQL prints with an even last digit).
 */
import { expect, it } from 'vitest';
import { asStoredReal } from '../../src/db/attempts.js';
import { useTestDb } from '../support/app.js';

const t = useTestDb();

function values(): number[] {
  const out = [0, 1e-45, 1.4e-45, 1e-40, 1e-30, 0.1, 0.5, 1, 2, 64, 99.99999999, 100, 33.333333333333336];
  for (let i = 0; i < 3000; i++) out.push(Math.random() * 100);
  for (let n = 1; n <= 300; n++) for (const k of [1, 2, n - 1]) if (k > 0 && k <= n) out.push((100 * k) / n);
  for (let i = 0; i < 500; i++) out.push(Math.random() * 10 ** -(1 + Math.floor(Math.random() * 38)));
  // Multiples of 1/128 (22.6015625, …) and of 1/2^20: exact float4s, many halfway between two shortest decimals.
  for (let k = 0; k <= 12_800; k++) out.push(k / 128);
  for (let i = 0; i < 5000; i++) out.push(Math.floor(Math.random() * 100 * 2 ** 20) / 2 ** 20);
  out.push(22.60156305783316, -22.6015625);
  return out;
}

it('is the value a real column stores and answers, for thousands of progress values', async () => {
  const input = values();
  const rows = await t.db.sql.unsafe<{ stored: number }[]>(
    `select v::float8::real as stored from unnest($1::text[]) with ordinality as x(v, n) order by n`,
    [input.map(String)],
  );
  const stored = rows.map((r) => r.stored);
  expect(stored.length).toBe(input.length);
  const differing = input.flatMap((v, i) => (asStoredReal(v) === stored[i] ? [] : [{ v, ours: asStoredReal(v), postgres: stored[i] }]));
  expect(differing).toEqual([]);
});
