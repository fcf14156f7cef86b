/**
 * Fault points for the fault tests: `LONGRUN_FAULTS=name[,name]` makes the process SIGKILL itself when it
 * reaches one of them. Unset (always, outside those tests) they cost one Set lookup.
 */
const armed = new Set((process.env.LONGRUN_FAULTS ?? '').split(',').filter(Boolean));

export type FaultPoint =
  /** submit: the job and its outbox entry are committed, the message is not published yet. */
  | 'after-commit-before-publish'
  /** dead letters: the copy is in the dead-letter stream, the job is not marked yet. */
  | 'dead-letter-before-mark';

export function faultPoint(name: FaultPoint): void {
  if (armed.size && armed.has(name)) process.kill(process.pid, 'SIGKILL');
}
