/**
 * Fault points for the fault tests: `LONGRUN_FAULTS=name[@N][,name[@N]]` makes the process SIGKILL itself
 * the N-th time (default: the first) it reaches that point. Unset (always, outside those tests) a fault
 * point costs one Map lookup.
 */
const armed = new Map<string, number>(
  (process.env.LONGRUN_FAULTS ?? '')
    .split(',')
    .filter(Boolean)
    .map((spec) => {
      const [name, n] = spec.split('@');
      return [name!, Number(n ?? 1)];
    }),
);

export type FaultPoint =
  /** submit: the job and its outbox entry are committed, the message is not published yet. */
  | 'after-commit-before-publish'
  /** scheduler: a pass's jobs and outbox entries are committed with the schedules moved on, not published yet. */
  | 'schedule-after-commit'
  /** dead letters: a FAILED job's copy is in the dead-letter stream, not recorded on the job yet. */
  | 'dead-letter-copied-before-record'
  /** dead letters: the copy is in the dead-letter stream, the job is not marked yet. */
  | 'dead-letter-before-mark'
  /** dead letters: the job is marked FAILED by the recorder (its message gone from the work queue). */
  | 'dead-letter-after-mark';

export function faultPoint(name: FaultPoint): void {
  if (armed.size === 0) return;
  const left = armed.get(name);
  if (left === undefined) return;
  if (left <= 1) process.kill(process.pid, 'SIGKILL');
  else armed.set(name, left - 1);
}
