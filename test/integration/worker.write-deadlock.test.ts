/**
 * A worker's write (claim, progress, outcome) that PostgreSQL rolls back to break a deadlock is written
 * again, as one that could not reach PostgreSQL is: dropped, an outcome would be lost and its job run again
 * once its lease ran out. Here a real deadlock: the write locks row 1 then row 2 while another transaction
 * holds row 2 and then asks for row 1; PostgreSQL aborts the write, which waited first.
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
    await q`update pair set n = n + 1 where id = 2`;
    holdsRow2();
    await writeHoldsRow1;
    await new Promise((r) => setTimeout(r, 300)); // the write waits for row 2 first, so it is the one aborted
    await q`update pair set n = n + 1 where id = 1`;
  });
  await otherHoldsRow2;

  const { persist } = createPersister(createLogger('silent'));
  const codes: string[] = [];
  await persist('both rows', () =>
    sql
      .begin(async (q) => {
        await q`update pair set n = n + 1 where id = 1`;
        holdsRow1();
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
