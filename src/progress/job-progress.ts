/**
 * `jobProgress(id, after)`: the job's current state (or its recorded history after `after`), then each live
 * update in seq order, ending after a terminal state (not after the FAILED of an earlier attempt series that
 * `retryJob` replayed since: the history goes on to the job's current state). Listening starts before
 * PostgreSQL is read (the NATS server has the subscription by then: hub.ts `subscribed`), and anything at or
 * below the last seq yielded is dropped, so there is no gap and no duplicate at the switch. Opening reads
 * PostgreSQL once: the job with its history row at its seq, or with the first page of its history after
 * `after` (db/history.ts `getJobOpening`).
 * A subscriber that falls behind gets the latest progress report instead of every one (see UpdateInbox);
 * state changes are never skipped. One whose inbox overflowed, or told by the hub that NATS reconnected,
 * reads what it missed (and whether its job has ended) through the process' shared history reader, in one
 * statement with the other subscriptions resyncing at the same time.
 * A recorded history is read a page at a time (HISTORY_PAGE rows a statement), the next page once the
 * subscriber has taken the last: an hour-long job's 14,000 rows are never in memory at once, and the
 * socket's flow control paces the reads (src/http/ws-push.ts).
 */
import type { Sql } from '../db/client.js';
import { getEventsMany, getJobOpening, HISTORY_PAGE, type HistoryAfter, type HistoryRead, type JobOpening } from '../db/history.js';
import { getEvents, getJob } from '../db/jobs.js';
import type { JobEventRow, JobRow } from '../db/schema.js';
import { ErrorCode, NotFoundError, PublicError } from '../errors.js';
import { isUuid } from '../jobs/deps.js';
import { isTerminal } from '../jobs/state.js';
import type { JobUpdateMessage } from '../messaging/messages.js';
import type { Names } from '../messaging/names.js';
import { returnsAtOnce, type DirectDelivery } from './generator.js';
import { UpdateInbox } from './inbox.js';
import type { UpdateHub } from './hub.js';
import { updateFromEvent, updateFromJob } from './updates.js';

export interface ProgressDeps {
  sql: Sql;
  hub: UpdateHub;
  names: Names;
  /** Live updates buffered per subscriber before it is resynchronised from PostgreSQL instead. @default 1000 */
  maxBuffer?: number;
  /**
   * Reads a job's changes after a seq when the subscription resyncs, shared by every subscription of the
   * process so that a reconnect's resyncs go to PostgreSQL in batches (db/history.ts `createHistoryReader`).
   * @default one query per read
   */
  readHistory?: (read: HistoryRead) => Promise<HistoryAfter>;
}

/** Recorded updates read in one statement; `more`: the statement stopped at its page size. */
interface RecordedPage {
  updates: JobUpdateMessage[];
  more: boolean;
}

/**
 * Whether the job has ended at or before `seq`. A job no longer there was deleted (purged, or past its
 * retention) while it was watched, its end unseen (NATS down meanwhile): NOT_FOUND, rather than a watch that
 * completes as if the job had ended, without its end.
 */
function ended(job: Pick<JobRow, 'state' | 'seq'> | null, seq: number): boolean {
  if (!job) throw new PublicError(ErrorCode.NOT_FOUND, 'job not found (deleted while it was watched)');
  return isTerminal(job.state) && job.seq <= seq;
}

/**
 * Opens the stream. Throws NOT_FOUND when the job does not exist or `canSee` refuses it.
 */
export async function openJobProgress(
  deps: ProgressDeps,
  givenId: string,
  after: number | null,
  canSee: (job: JobRow) => boolean = () => true,
): Promise<AsyncGenerator<JobUpdateMessage> & DirectDelivery<JobUpdateMessage>> {
  if (!isUuid(givenId)) throw new NotFoundError('job');
  // The job's updates go out on subjects with its id as stored (lower case); an id in capitals names the same
  // job, and listening under it heard none of them (the snapshot came, then nothing, not even its end).
  const jobId = givenId.toLowerCase();
  // Seqs start at 1: a negative `after` names no update (0 asks for the whole history).
  if (after !== null && after < 0) throw new PublicError(ErrorCode.BAD_USER_INPUT, `after: ${after} names no update of this job (seqs start at 1; 0 replays them all)`);
  const inbox = new UpdateInbox({ max: deps.maxBuffer ?? 1000, onFull: 'empty', latestProgress: true });
  let needResync = false;
  const pattern = deps.names.jobUpdatesPattern(jobId);
  const unlisten = deps.hub.listen(pattern, {
    update(u) {
      if (!inbox.push(u)) needResync = true;
    },
    resync() {
      needResync = true;
      inbox.wake();
    },
  });

  let opening: JobOpening | null;
  try {
    await deps.hub.subscribed([pattern]); // else an update published just after the read could be missed
    opening = await getJobOpening(deps.sql, jobId, after);
  } catch (e) {
    unlisten();
    throw e;
  }
  if (!opening || !canSee(opening.job)) {
    unlisten();
    throw new NotFoundError('job');
  }
  const { job, events: opened } = opening;
  // No update of the job has a seq above these (a running attempt publishes from its reserved block): a
  // larger `after` names no update, and waiting for updates after it would skip the job's end.
  const highest = Math.max(job.seq, job.seqReserved);
  if (after !== null && after > highest) {
    unlisten();
    throw new PublicError(ErrorCode.BAD_USER_INPUT, `after: ${after} is past every update of this job (its seq is at most ${highest})`);
  }
  const readHistory = deps.readHistory ?? (async (r: HistoryRead) => (await getEventsMany(deps.sql, [r]))[0]!);

  /**
   * Whether the job has ended at or before `seq`: then there is nothing more to send. (A terminal update at
   * or below the last seq yielded is either stale, e.g. a FAILED overtaken by a replay's QUEUED, or the
   * end of a job watched with an `after` beyond its last update; PostgreSQL tells which.)
   */
  const endedBy = async (seq: number): Promise<boolean> => ended(await getJob(deps.sql, jobId), seq);

  /** A page of recorded changes as read (a full page may have more after it). */
  const pageOf = (events: JobEventRow[]): RecordedPage => ({
    updates: events.map((e) => updateFromEvent(job.type, e)),
    more: events.length === HISTORY_PAGE,
  });

  /** The page of recorded changes after `seq` (the next one, once the subscriber has taken the last), read from PostgreSQL. */
  const recordedAfter = async (seq: number): Promise<RecordedPage> => pageOf(await getEvents(deps.sql, jobId, seq, HISTORY_PAGE));

  /**
   * The same after a resync, with whether the job has ended by `seq` (from the same snapshot), through the
   * process' shared reader: the subscriptions resyncing together share its statements.
   */
  const resyncAfter = async (seq: number): Promise<RecordedPage & { ended: boolean }> => {
    const r = await readHistory({ jobId: job.id, afterSeq: seq });
    return { updates: r.events.map((e) => updateFromEvent(job.type, e)), more: r.more, ended: ended(r.job, seq) };
  };

  /** The last seq yielded (or delivered directly). */
  let lastSeq = 0;
  let deliver: ((u: JobUpdateMessage) => boolean) | null = null;
  // Live and idle (the generator waits in `inbox.take()`, nothing queued): a live update other than a
  // terminal one may go straight to the consumer. Anything else takes the generator's way.
  inbox.direct = (u) => {
    if (!deliver || needResync || isTerminal(u.state) || u.seq <= lastSeq || !deliver(u)) return false;
    lastSeq = u.seq;
    return true;
  };

  /**
   * Yields recorded updates; answers whether the stream ends there: the last of them is terminal. A terminal
   * one with more after it ended an earlier attempt series (the job was replayed with retryJob since).
   */
  async function* replay(updates: JobUpdateMessage[]): AsyncGenerator<JobUpdateMessage, boolean> {
    for (const u of updates) {
      yield u;
      lastSeq = u.seq;
    }
    const last = updates.at(-1);
    return last !== undefined && isTerminal(last.state);
  }

  /**
   * Yields a page of recorded updates and every page after it, reading the next only once this one is taken;
   * answers as `replay` for the last update of all.
   */
  async function* replayPages(page: RecordedPage): AsyncGenerator<JobUpdateMessage, boolean> {
    let ends = false;
    for (;;) {
      if (page.updates.length) ends = yield* replay(page.updates);
      if (!page.more) return ends;
      page = await recordedAfter(lastSeq);
    }
  }

  async function* stream(): AsyncGenerator<JobUpdateMessage> {
    try {
      if (after !== null) {
        lastSeq = after;
        if (yield* replayPages(pageOf(opened))) return;
        // A job with no recorded change after `after` still shows where it is.
        if (lastSeq === after && ended(job, after)) return;
      } else {
        // As its history row records it (the job row is missing the change's own message: 'replayed', …).
        const [recorded] = opened;
        const snapshot = recorded?.seq === job.seq ? updateFromEvent(job.type, recorded) : updateFromJob(job);
        yield snapshot;
        lastSeq = snapshot.seq;
        if (isTerminal(snapshot.state)) return;
      }
      for (;;) {
        if (inbox.closed) return;
        if (needResync) {
          needResync = false;
          inbox.clear();
          const r = await resyncAfter(lastSeq);
          if (yield* replayPages(r)) return;
          if (!r.updates.length && r.ended) return;
          continue;
        }
        const u = await inbox.take();
        if (u === null) return;
        if (!u) continue;
        if (u.seq <= lastSeq) {
          if (isTerminal(u.state) && (await endedBy(lastSeq))) return;
          continue;
        }
        yield u;
        lastSeq = u.seq;
        if (isTerminal(u.state)) return;
      }
    } finally {
      unlisten();
    }
  }
  const gen = returnsAtOnce(stream(), () => {
    unlisten();
    inbox.close();
  });
  return Object.assign(gen, {
    deliverTo(d: (u: JobUpdateMessage) => boolean) {
      deliver = d;
    },
  });
}
