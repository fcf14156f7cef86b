/** A job's row held by another transaction, as the dead-letter recorder's write holds it while it runs. */
import type postgres from 'postgres';

/**
 * Updates the job's row (its dead-letter record written again, a change that leaves it as it was) in a
 * transaction left open until the answered `release` is called: a `for update skip locked` skips the row
 * meanwhile, a `for update` waits for it.
 */
export async function holdJobRow(sql: postgres.Sql, id: string): Promise<() => Promise<void>> {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let locked!: () => void;
  const isLocked = new Promise<void>((r) => (locked = r));
  const tx = sql.begin(async (q) => {
    await q`update jobs set dead_lettered_at = coalesce(dead_lettered_at, now()) where id = ${id}`;
    locked();
    await released;
  });
  await Promise.race([isLocked, tx]);
  return async () => {
    release();
    await tx;
  };
}
