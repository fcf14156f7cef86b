/**
 * How much recorded history one `jobUpdates` replay may send (`since`, `lastSeenAt`, and the rereads after
 * a full inbox or a NATS reconnect), and the instants it may start from. Past a bound a subscription that
 * asked for history is refused (REPLAY_TOO_LARGE), never cut short silently; a bad instant is BAD_USER_INPUT.
 */
import { ErrorCode, PublicError } from '../errors.js';
import { checkYearOne } from '../jobs/queries.js';

/**
 * Most history rows (and changed jobs) one replay counts (at or after `since` or `lastSeenAt`); past it the
 * subscription is refused.
 */
export const MAX_REPLAY_ROWS = 10_000;
/**
 * Most changed jobs a replay looks through when a `states` filter picks its rows: a quiet filter (`FAILED`
 * only) on a busy system is not refused for the jobs that changed into other states.
 */
export const MAX_REPLAY_CANDIDATES = 100_000;
/**
 * How far before `lastSeenAt` a resume replays: a change's `at` is when its transaction started, so one that
 * committed (and went out) after the last update a client saw can carry an earlier `at`. The SDK's
 * RESUME_OVERLAP_MS is the same.
 */
export const RESUME_OVERLAP_MS = 5000;
/**
 * Most changes (and changed jobs) in the RESUME_OVERLAP_MS before `lastSeenAt` a resume replays besides the
 * MAX_REPLAY_ROWS after it: 10,000 a second. The client saw most of them; they are sent, not counted.
 */
export const MAX_OVERLAP_ROWS = 50_000;
/** How far past the API's clock `since` may be (clocks differ: a live progress report carries a worker's). */
export const SINCE_CLOCK_SKEW_MS = 60_000;
/** The first instant PostgreSQL holds (0001-01-01T00:00:00Z), in ms. */
export const YEAR_1 = Date.parse('0001-01-01T00:00:00Z');

/**
 * Which recorded changes a read replays: those at or after `from`; only those at or after `counted` count
 * towards MAX_REPLAY_ROWS (the ones before it are a resume's overlap, bounded by MAX_OVERLAP_ROWS).
 */
export interface ReplayRange {
  from: Date;
  counted: Date;
  /** The argument it comes from, named in a refusal. */
  arg: 'since' | 'lastSeenAt';
}

/**
 * REPLAY_TOO_LARGE when more than `max` of `ats` are at or after the range's `counted`, or more than `overlap`
 * besides them (of a list read with a limit of `max + overlap + 1`); `extensions.since` is the range's `from`.
 */
export function checkBound(ats: readonly Date[], r: ReplayRange, max: number, overlap: number, what: string): void {
  const counted = ats.filter((at) => at >= r.counted).length;
  if (counted > max || ats.length > max + overlap) {
    const much = counted > max ? `more than ${max} ${what} since then` : `more than ${overlap} ${what} in the ${RESUME_OVERLAP_MS / 1000} s before it`;
    throw new PublicError(
      ErrorCode.REPLAY_TOO_LARGE,
      `${r.arg}: ${much}: page with the \`jobs\` query (filter createdAfter, or by state) for the current state, then resume with a later \`since\``,
      { extensions: { since: r.from.toISOString() } },
    );
  }
}

/** BAD_USER_INPUT for an instant the replay cannot start from: more than a minute ahead, or before year 1. */
export function checkInstant(name: string, at: Date | null): void {
  if (at && !(at.getTime() <= Date.now() + SINCE_CLOCK_SKEW_MS)) {
    throw new PublicError(ErrorCode.BAD_USER_INPUT, `${name}: not a time in the past (pass the \`at\` of the last update you saw)`);
  }
  checkYearOne(name, at);
}
