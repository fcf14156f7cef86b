/**
 * Idempotency keys within one submit: a key given twice in a batch makes one job, and a key that names a job
 * of another type (in the batch, or already in the database) refuses the submit with IDEMPOTENCY_KEY_REUSED.
 */
import type { NewJob } from '../db/jobs.js';
import type { KeyedJobRow } from '../db/schema.js';
import { UserErrorCode, type UserError } from '../errors.js';

/**
 * The same key twice in one batch: one job, of one type. Answers the jobs to insert and the first job of each
 * key, or an error for each later input that gives a key with another type.
 */
export function firstOfEachKey(
  jobs: NewJob[],
  at: (i: number) => string[],
): { unique: NewJob[]; firstByKey: Map<string, NewJob> } | { errors: UserError[] } {
  const firstByKey = new Map<string, NewJob>();
  const firstIndex = new Map<string, number>();
  const errors: UserError[] = [];
  const unique = jobs.filter((j, i) => {
    if (j.idempotencyKey === null) return true;
    const first = firstByKey.get(j.idempotencyKey);
    if (first) {
      if (first.type !== j.type) errors.push(keyReused(at(i), j, `the job of input ${firstIndex.get(j.idempotencyKey)}`, first.type));
      return false;
    }
    firstByKey.set(j.idempotencyKey, j);
    firstIndex.set(j.idempotencyKey, i);
    return true;
  });
  return errors.length ? { errors } : { unique, firstByKey };
}

/** An error for each input whose key `holder` finds on a job of another type. */
export const keysOfOtherTypes = (
  jobs: NewJob[],
  at: (i: number) => string[],
  holder: (key: string) => { id: string; type: string } | undefined,
): UserError[] =>
  jobs.flatMap((j, i) => {
    const other = j.idempotencyKey === null ? undefined : holder(j.idempotencyKey);
    return other && other.type !== j.type ? [keyReused(at(i), j, `job ${other.id}`, other.type)] : [];
  });

/** The job among `jobs` that holds a key. */
export const holderAmong = (jobs: readonly KeyedJobRow[]) => {
  const byKey = new Map(jobs.map((j) => [j.idempotencyKey!, j]));
  return (key: string) => byKey.get(key);
};

/** An idempotency key that names a job of another type: refused, never answered with that job. */
const keyReused = (at: string[], j: NewJob, holder: string, type: string): UserError => ({
  code: UserErrorCode.IDEMPOTENCY_KEY_REUSED,
  field: [...at, 'idempotencyKey'],
  message: `idempotencyKey ${JSON.stringify(j.idempotencyKey)} names ${holder}, of type ${type}, not ${j.type}`,
});
