/**
 * Paused job types (`paused_job_types`): a row while an admin has the type paused.
 */
import type { Sql } from './client.js';

export interface PauseRow {
  type: string;
  pausedAt: Date;
  pausedBy: string;
}

const COLUMNS = `type, paused_at as "pausedAt", paused_by as "pausedBy"`;

/** Every paused type. */
export function readPauses(sql: Sql): Promise<PauseRow[]> {
  return sql.unsafe<PauseRow[]>(`select ${COLUMNS} from paused_job_types`);
}

/** The names of the paused types. */
export async function pausedTypes(sql: Sql): Promise<Set<string>> {
  return new Set((await readPauses(sql)).map((p) => p.type));
}

/**
 * Pauses the type; one already paused keeps its first pause (when, and by whom). The conflict is an update that
 * changes nothing rather than `do nothing` plus a read: a pause committed by another call while this statement
 * waited on its key is not in the statement's snapshot, so that read found no row; the update locks and
 * returns the row as committed.
 */
export async function insertPause(sql: Sql, type: string, by: string): Promise<PauseRow> {
  const [row] = await sql.unsafe<PauseRow[]>(
    `insert into paused_job_types (type, paused_by) values ($1, $2)
     on conflict (type) do update set type = excluded.type returning ${COLUMNS}`,
    [type, by],
  );
  return row!;
}

/** Resumes the type (nothing if it was not paused); whether it was paused. */
export async function deletePause(sql: Sql, type: string): Promise<boolean> {
  return (await sql.unsafe(`delete from paused_job_types where type = $1`, [type])).count > 0;
}
