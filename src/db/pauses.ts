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

/** Pauses the type; one already paused keeps its first pause (when, and by whom). */
export async function insertPause(sql: Sql, type: string, by: string): Promise<PauseRow> {
  const [row] = await sql.unsafe<PauseRow[]>(
    `with ins as (insert into paused_job_types (type, paused_by) values ($1, $2) on conflict (type) do nothing returning ${COLUMNS})
     select * from ins union all select ${COLUMNS} from paused_job_types where type = $1 and not exists (select 1 from ins)`,
    [type, by],
  );
  return row!;
}

/** Resumes the type (nothing if it was not paused). */
export async function deletePause(sql: Sql, type: string): Promise<void> {
  await sql.unsafe(`delete from paused_job_types where type = $1`, [type]);
}
