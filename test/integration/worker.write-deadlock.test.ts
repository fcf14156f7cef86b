/**
 * A worker's write (claim, progress, outcome) that PostgreSQL rolls back to break a deadlock is written
 * again, as one that could not reach PostgreSQL is: dropped, an outcome would be lost and its job run again
 * once its lease ran out. Here a real deadlock: the write locks row 1 then row 2 while another transaction
 * holds row 2 and then asks for row 1. PostgreSQL aborts the transaction whose deadlock check runs first (a
 * deadlock_timeout after it began to wait, once: a check before the cycle closed finds none): the other one
 * waits first, with a check a minute away, so the write, whose wait closes the cycle, is always the one.
 */
import { expect, it } from 'vitest';
import { useTestDb } from '../support/app.js';
import { createLogger } from '../../src/log.js';
import { createPersister } from '../../workers/persist.js';

const t = useTestDb(3);

it('writes again a write PostgreSQL rolled back as a deadlock victim', async () => {
  const sql = t.env.sql;
  await sql`create table pair (id int primary key, n int not null)`;
  await sql`insert into pair values (1, 0), (2, 0)`;
  let holdsRow1!: () => void;
  const writeHoldsRow1 = new Promise<void>((r) => (holdsRow1 = r));
  let holdsRow2!: () => void;
  const otherHoldsRow2 = new Promise<void>((r) => (holdsRow2 = r));
  const other = sql.begin(async (q) => {
    await q`set local deadlock_timeout = '1min'`;
    await q`update pair set n = n + 1 where id = 2`;
    holdsRow2();
    await writeHoldsRow1;
    await q`update pair set n = n + 1 where id = 1`; // waits for the write
  });
  other.catch(() => {}); // awaited after the write: not an unhandled rejection meanwhile
  await otherHoldsRow2;
  const otherWaits = async () => {
    while (!(await sql`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`).length) {
      await new Promise((r) => setTimeout(r, 10));
    }
  };

  const { persist } = createPersister(createLogger('silent'));
  const codes: string[] = [];
  let firstTry = true;
  await persist('both rows', () =>
    sql
      .begin(async (q) => {
        await q`update pair set n = n + 1 where id = 1`;
        if (firstTry) {
          firstTry = false;
          holdsRow1();
          await otherWaits(); // for row 1: this update closes the cycle
        }
        await q`update pair set n = n + 1 where id = 2`;
      })
      .catch((e: { code?: string }) => {
        codes.push(String(e.code));
        throw e;
      }),
  );
  await other;
  expect(codes).toEqual(['40P01']);
  expect(await sql`select id, n from pair order by id`).toEqual([
    { id: 1, n: 2 },
    { id: 2, n: 2 },
  ]);
});
