/** A row (or table) held by another transaction, as the dead-letter recorder's write holds a job's row while it runs. */
import type postgres from 'postgres';

/**
 * Runs `lock` in a transaction left open until the answered `release` is called (answered once `lock` has
 * run): whatever it locked stays locked meanwhile.
 */
export async function holdInTransaction(sql: postgres.Sql, lock: (q: postgres.TransactionSql) => Promise<unknown>): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const tx = sql.begin(async (q) => {
    await lock(q);
    locked();
    await released;
  });
  await Promise.race([isLocked, tx]);
  return async () => {
    release();
    await tx;
  };
}

/**
 * Updates the job's row (its dead-letter record written again, a change that leaves it as it was) in a
 * transaction left open until the answered `release` is called: a `for update skip locked` skips the row
 * meanwhile, a `for update` waits for it.
 */
export const holdJobRow = (sql: postgres.Sql, id: string): Promise<() => Promise<void>> =>
  holdInTransaction(sql, (q) => q`update jobs set dead_lettered_at = coalesce(dead_lettered_at, now()) where id = ${id}`);
