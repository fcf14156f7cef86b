/**
 * Rereads of `jobUpdates` subscriptions whose filters name job ids, grouped across filters: after a reconnect
 * every subscription rereads at once, and 1,000 dashboards on their own jobs would be 2,000 statements. The
 * rereads made in one burst by one viewer from one time are read together: the changed jobs among the union
 * of their ids, then those jobs' recorded changes (every state), two statements for the group. Each
 * subscription then gets exactly what its own two statements would have answered: its jobs (its ids, of its
 * types), their changes (into its states), in the same order, cut at its own limits; it checks its own bounds
 * on them, so one past its bound is refused alone.
 *
 * A group whose changes pass `maxRows` (one job with a long history) is not answered from a cut list: it is
 * split in two and each half read again, so the others still share a read; a subscription that passes it
 * alone gets null and reads on its own, as it would without grouping.
 */
import type { Sql } from '../db/client.js';
import { groupCommit } from '../db/group-commit.js';
import { changedJobsSince, historySince, type ChangedJob } from '../db/queries.js';
import type { JobEventRow } from '../db/schema.js';
import type { JobState } from '../jobs/state.js';
import { MAX_OVERLAP_ROWS, MAX_REPLAY_ROWS } from './replay-bounds.js';

/** One subscription's reread: what its own `changedJobsSince` and `historySince` would ask. */
export interface IdsReread {
  owner: string | null;
  from: Date;
  /** The filter's job ids, lower case, each once; not empty. */
  ids: readonly string[];
  types: readonly string[] | null;
  states: readonly JobState[] | null;
  /** Its statements' limits: at most this many changed jobs, and changes. */
  jobsLimit: number;
  rowsLimit: number;
}

/** What its own statements would have answered. */
export interface RereadRows {
  jobs: ChangedJob[];
  rows: JobEventRow[];
}

/** Reads a reread with the others of its burst; null: read it alone (its changes pass what a group reads). */
export type RereadGroups = (read: IdsReread) => Promise<RereadRows | null>;

type Outcome = { rows: RereadRows | null } | { error: unknown };

/** What the group's rows hold for one subscription, as its own statements would answer it. */
function rowsOf(r: IdsReread, jobs: readonly ChangedJob[], rows: readonly JobEventRow[]): RereadRows {
  const ids = new Set(r.ids);
  const mine = jobs.filter((j) => ids.has(j.id) && (!r.types || r.types.includes(j.type))).slice(0, r.jobsLimit);
  const picked = new Set(mine.map((j) => j.id));
  const changes = rows.filter((e) => picked.has(e.jobId) && (!r.states || r.states.includes(e.state)));
  return { jobs: mine, rows: changes.slice(0, r.rowsLimit) };
}

/** The rereads of one viewer from one time (in `group`'s order); halves read again past `maxRows`. */
async function readGroup(sql: Sql, group: readonly IdsReread[], maxRows: number): Promise<(RereadRows | null)[]> {
  const { owner, from } = group[0]!;
  const ids = [...new Set(group.flatMap((r) => r.ids))];
  // At most one row a job (its state picks one side of the union): the limit never cuts.
  const jobs = await changedJobsSince(sql, from, { owner, types: null, ids }, ids.length + 1);
  const rows = jobs.length ? await historySince(sql, jobs.map((j) => j.id), from, null, maxRows + 1) : [];
  if (rows.length <= maxRows) return group.map((r) => rowsOf(r, jobs, rows));
  if (group.length === 1) return [null];
  const half = Math.ceil(group.length / 2);
  return [...(await readGroup(sql, group.slice(0, half), maxRows)), ...(await readGroup(sql, group.slice(half), maxRows))];
}

/**
 * Groups the rereads made in one burst (`groupCommit` with `gather`: those made before the statement
 * starts; a later one waits for the next, so its answer is never older than the call), up to `maxIds` ids
 * a batch, one batch at a time. A failed read fails only its group.
 */
export function createRereadGroups(
  sql: Sql,
  o: {
    /** @default 5000 */
    maxIds?: number;
    /** Most changes a group reads before it splits: as many as one subscription's read may take. @default 60,000 */
    maxRows?: number;
  } = {},
): RereadGroups {
  const maxRows = o.maxRows ?? MAX_REPLAY_ROWS + MAX_OVERLAP_ROWS;
  const read = groupCommit(
    async (reads: IdsReread[]): Promise<Outcome[]> => {
      const groups = new Map<string, number[]>();
      reads.forEach((r, i) => {
        const key = JSON.stringify([r.owner, r.from.getTime()]);
        const members = groups.get(key);
        if (members) members.push(i);
        else groups.set(key, [i]);
      });
      const out: Outcome[] = [];
      for (const members of groups.values()) {
        try {
          const answers = await readGroup(sql, members.map((i) => reads[i]!), maxRows);
          members.forEach((i, n) => (out[i] = { rows: answers[n]! }));
        } catch (error) {
          for (const i of members) out[i] = { error };
        }
      }
      return out;
    },
    { maxSize: o.maxIds ?? 5000, sizeOf: (r) => r.ids.length, gather: true },
  );
  return async (r) => {
    const answer = await read(r);
    if ('error' in answer) throw answer.error;
    return answer.rows;
  };
}
