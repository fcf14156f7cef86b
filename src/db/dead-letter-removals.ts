/**
 * Copies in the dead-letter stream that no longer stand for a dead letter (`dead_letter_removals`, see
 * schema.ts): noted in the transaction that makes them stale, deleted once NATS has removed the copy
 * (messaging/dead-letters.ts).
 */
import type { Sql } from './client.js';

/** Copies in the dead-letter stream to delete (see `deadLetterRemovals` in schema.ts). */
export async function noteStaleCopies(sql: Sql, seqs: readonly number[]): Promise<void> {
  await sql.unsafe(`insert into dead_letter_removals (seq) select unnest($1::bigint[]) on conflict do nothing`, [seqs as never]);
}

/** Stale copies still to delete from the dead-letter stream, oldest first. */
export async function staleCopies(sql: Sql, limit: number): Promise<number[]> {
  const rows = await sql.unsafe<{ seq: number }[]>(`select seq::float8 as seq from dead_letter_removals order by created_at limit $1`, [limit]);
  return rows.map((r) => r.seq);
}

/** Stale copies the dead-letter stream no longer has. */
export async function staleCopiesRemoved(sql: Sql, seqs: readonly number[]): Promise<void> {
  if (seqs.length) await sql.unsafe(`delete from dead_letter_removals where seq = any($1::bigint[])`, [seqs as never]);
}

/**
 * Which of `seqs` a dead letter records as its copy (`jobs_dead_lettered` holds only dead letters): after the
 * dead-letter stream was deleted and made again, such a sequence holds that job's copy, not the stale one.
 */
export async function recordedCopies(sql: Sql, seqs: readonly number[]): Promise<Set<number>> {
  if (!seqs.length) return new Set();
  const rows = await sql.unsafe<{ seq: number }[]>(
    `select dead_letter_seq::float8 as seq from jobs where dead_lettered_at is not null and dead_letter_seq = any($1::bigint[])`,
    [seqs as never],
  );
  return new Set(rows.map((r) => r.seq));
}
