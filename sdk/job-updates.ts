/**
 * `jobUpdates`: the updates of many jobs, resumed after a lost connection with `lastSeenAt` (the latest `at`
 * yielded) and with what the resume's overlap sends again dropped; a replay the server refuses
 * (REPLAY_TOO_LARGE) is a gap handed to `onGap`, after which the iterator goes on from the present.
 */
import type { Connection } from './connection.js';
import { serverError } from './errors.js';
import { JobUpdatesDocument, type JobUpdatesFilter } from './generated/graphql.js';
import { reconnectDelay, resubscribing, sleep } from './reconnection.js';
import type { JobUpdate, SubscriptionSettings } from './subscriptions.js';

export interface JobUpdatesOptions {
  /**
   * Replay the recorded changes at or after this instant first (the `at` of the last update you saw, as
   * yielded: an ISO 8601 string); updates the iterator yielded already are not yielded again.
   * @default the instant `jobUpdates()` was called (not the first read), by the server's clock: nothing from
   * before it comes, and a reread the server cannot make later (see `onGap`) is a gap, never a silent loss
   */
  since?: string;
  /** Stops the iterator. */
  signal?: AbortSignal;
  /**
   * Called when a replay is refused with REPLAY_TOO_LARGE (more changes than the server replays at once): a
   * resume after a lost connection (more changed while the client was away), your own `since` (refused at
   * the start, before anything was yielded), or a reread mid-stream (the server's, after the subscription fell
   * behind the live updates or after the API's NATS connection was back). The iterator then subscribes again
   * from the present (with the usual overlap), and calls and awaits `onGap` before it yields anything more:
   * re-read there the current state of what you show, then apply an update that follows only if its seq is
   * greater than the one you hold for its job. The updates that arrive while it runs are yielded after it
   * returns; an error it throws ends the iterator. A refused `since` is a gap too, not your error: the re-read
   * is what the refusal asks for, and here it misses nothing (the new subscription listens before `onGap`
   * runs); to fail instead, throw from `onGap`. The subscription from the present can be refused in its turn
   * (more than the server replays in its 5 s overlap: a very busy moment): that is another gap, with `onGap`
   * called again, after the wait a reconnect would take (`reconnectDelayMs`, doubling up to 5 s, jittered); after
   * 1 + `reconnectAttempts` gaps in a row with no update yielded between them, the next refusal is thrown.
   * @default none: the iterator throws that LongrunError (code REPLAY_TOO_LARGE)
   * @example
   * const updates = longrun.jobUpdates({ types: ['video.encode'] }, {
   *   onGap: async () => { shown = await readCurrentState(); }, // jobId → { seq, state, … }
   * });
   * for await (const u of updates) {
   *   if (u.seq > (shown.get(u.jobId)?.seq ?? 0)) shown.set(u.jobId, u);
   * }
   */
  onGap?: (gap: ReplayGap) => void | Promise<void>;
}

/** What `onGap` is told about the changes the iterator could not replay. */
export interface ReplayGap {
  /**
   * From when changes may be missing, ISO 8601: your `since` (without one, the instant the iterator started,
   * by the server's clock), or the `lastSeenAt` of a refused resume (the latest `at` it had yielded, or the
   * instant it went on from after a gap); for a refusal mid-stream, the later instant the server's reread
   * started from (the error's `extensions.since`).
   */
  since: string;
}

/**
 * How far before the latest `at` it yielded a `jobUpdates` resume replays (the server's overlap for
 * `lastSeenAt`): a change's `at` is when its statement started, so one that committed (and went out) a little
 * later than another can carry an earlier `at`. The jobs yielded that recently are remembered, to drop what
 * the overlap sends again.
 */
export const RESUME_OVERLAP_MS = 5000;

/** How many of the most recently active jobs the iterator remembers (besides those within the overlap). */
const REMEMBERED_JOBS = 10_000;

/**
 * The gap a `jobUpdates` subscription's failure leaves when it is a REPLAY_TOO_LARGE refusal (else null):
 * from `asked` (the subscription's `since` or `lastSeenAt`), or from where the refused read started
 * (`extensions.since`) when that is later: a refusal mid-stream, of the server's reread after the
 * subscription fell behind or after the API's NATS connection was back. (For `lastSeenAt`, the refusal of the
 * first read names 5 s before it: the overlap, which the client had received, is not part of the gap.)
 */
function gapOf(e: unknown, asked: string): ReplayGap | null {
  const err = serverError(e);
  if (err?.code !== 'REPLAY_TOO_LARGE') return null;
  const from = Date.parse(String(err.errors[0]?.extensions?.since));
  return { since: from > Date.parse(asked) ? new Date(from).toISOString() : asked };
}

/**
 * An instant of this machine's clock, sent as the server's: written out (JSON) when graphql-ws sends the
 * subscription, which it does only once the connection is acknowledged, so the difference the ack's
 * `serverTime` showed is known by then, also on a connection that this subscription opens. The first
 * writing fixes it: what was sent is what `toJSON()` answers after.
 */
class ServerInstant {
  private sent: string | undefined;
  constructor(
    private readonly local: number,
    private readonly offset: () => number,
  ) {}
  toJSON(): string {
    return (this.sent ??= new Date(this.local + this.offset()).toISOString());
  }
}

/** What a `jobUpdates` subscription resumes from: `since` (the caller's, or the iterator's start), or `lastSeenAt`. */
interface ResumeVars {
  since: string | ServerInstant | null;
  lastSeenAt: string | null;
}

/** The instant a subscription asked to be replayed from (its `lastSeenAt` or `since`, as sent); null if none. */
const askedOf = (vars: ResumeVars): string | null =>
  vars.lastSeenAt ?? (vars.since instanceof ServerInstant ? vars.since.toJSON() : vars.since);

/**
 * The variables of a `jobUpdates` subscription. The first from the caller's `since`, or from `started` (this
 * machine's clock, sent by the server's): the server then refuses, never skips, a reread past its bound. A
 * later one resumes with `lastSeenAt`: the latest of `latest` (the latest `at` yielded) and `started` (by the
 * server's clock); without either, from the caller's `since` again.
 */
function resumeVars(first: boolean, since: string | undefined, started: number | null, latest: number | null, conn: Connection): ResumeVars {
  if (first) return { since: since ?? new ServerInstant(started ?? conn.now(), () => conn.clockOffset), lastSeenAt: null };
  const ats = [latest, started === null ? null : started + conn.clockOffset].filter((at) => at !== null);
  const lastSeenAt = ats.length ? Math.max(...ats) : null;
  if (lastSeenAt === null) return { since: since ?? null, lastSeenAt: null };
  return { since: null, lastSeenAt: new Date(lastSeenAt).toISOString() };
}

/**
 * What a `jobUpdates` iterator yielded: per job, the last seq and the latest `at` among its updates, for the
 * REMEMBERED_JOBS most recently active jobs and every job yielded within RESUME_OVERLAP_MS of the latest `at`.
 */
class YieldedUpdates {
  /** The latest `at` yielded (ms); null before the first update. */
  latest: number | null = null;
  private readonly jobs = new Map<string, { seq: number; at: number }>();

  /** Whether `u` is new (seqs grow per job): then it is recorded as yielded. */
  add(u: JobUpdate): boolean {
    const before = this.jobs.get(u.jobId);
    if (u.seq <= (before?.seq ?? 0)) return false;
    const at = Date.parse(u.at);
    this.jobs.delete(u.jobId); // re-insert: the map keeps the most recently active jobs last
    this.jobs.set(u.jobId, { seq: u.seq, at: Math.max(at, before?.at ?? at) });
    if (this.latest === null || at > this.latest) this.latest = at;
    const latest = this.latest;
    for (const [id, y] of this.jobs) {
      if (this.jobs.size <= REMEMBERED_JOBS || y.at >= latest - RESUME_OVERLAP_MS) break;
      this.jobs.delete(id);
    }
    return true;
  }
}

/**
 * The gap, then the updates of `live`, a subscription from the gap's handling on, made before the gap is
 * yielded (graphql-ws holds what arrives meanwhile): the application's re-read in `onGap` comes after it
 * starts, so no change falls between the two.
 */
async function* gapThenLive(
  gap: ReplayGap,
  live: AsyncGenerator<JobUpdate>,
  end: AbortController,
): AsyncGenerator<JobUpdate | { gap: ReplayGap }> {
  const first = live.next(); // subscribes now
  first.catch(() => {}); // awaited once the gap is handled
  try {
    yield { gap };
    const r = await first;
    if (r.done) return;
    yield r.value;
    yield* live;
  } finally {
    // Ended while `live` may still wait for its first update (the signal aborted during onGap): its return()
    // would wait for that update, so `end` unsubscribes at once.
    end.abort();
    void live.return(undefined);
  }
}

/**
 * The updates of the jobs `filter` matches, on `conn`. Resumes with `lastSeenAt: <the latest at yielded>` (the
 * server replays from RESUME_OVERLAP_MS before it and counts only what is at or after it) and drops what it
 * yielded already by the job's last seq (YieldedUpdates). Without `options.since`, the first subscription has
 * `since`: its start, by the server's clock (the ack's `serverTime`; this machine's may be off; a
 * ServerInstant, written out once the ack is in; early by the ack's way over the network, the only changes its
 * replay can have), so the server refuses, never skips, a reread past its bound. That start counts as the
 * latest `at` too: a reconnect before anything was yielded still replays what happened meanwhile. With
 * `options.onGap`, a subscription refused with REPLAY_TOO_LARGE (at its start or mid-stream) goes on from the
 * present (gapThenLive), and its start counts the same way.
 */
export function jobUpdates(
  conn: Connection,
  s: SubscriptionSettings,
  filter: JobUpdatesFilter = {},
  opts: JobUpdatesOptions = {},
): AsyncGenerator<JobUpdate> {
  // The start is the call's instant, not the first next()'s (a generator's body runs only then): what changes
  // between the two (the jobs the caller submits before reading, say) is replayed.
  return updatesFrom(conn, s, opts.since === undefined ? conn.now() : null, filter, opts);
}

/** `jobUpdates` from `started` (this machine's clock; null with the caller's `since`). */
async function* updatesFrom(
  conn: Connection,
  s: SubscriptionSettings,
  started: number | null,
  filter: JobUpdatesFilter,
  opts: JobUpdatesOptions,
): AsyncGenerator<JobUpdate> {
  const yielded = new YieldedUpdates();
  let opened = false;
  const resume = (): ResumeVars => {
    const vars = resumeVars(!opened, opts.since, started, yielded.latest, conn);
    opened = true;
    return vars;
  };
  const subscribe = (vars: ResumeVars, end?: AbortSignal) =>
    conn.subscribe<{ jobUpdates: JobUpdate }>(JobUpdatesDocument.toString(), { filter, ...vars }, 'jobUpdates', opts.signal, end);
  /** Gaps since the last update yielded: the refusal that would make one more than 1 + reconnectAttempts is thrown. */
  let gapsInARow = 0;
  const closed = conn.closing;
  async function* open(): AsyncGenerator<JobUpdate | { gap: ReplayGap }> {
    let vars = resume();
    let updates: AsyncGenerator<JobUpdate | { gap: ReplayGap }> = subscribe(vars);
    for (;;) {
      try {
        return yield* updates;
      } catch (e) {
        const asked = askedOf(vars);
        const gap = opts.onGap && asked !== null ? gapOf(e, asked) : null;
        if (!gap || gapsInARow > s.reconnectAttempts) throw e;
        // The subscription from the present refused too (more changes in its 5 s overlap, or since it started,
        // than one replay sends: a very busy moment): tried again as a reconnect is, after a wait.
        if (gapsInARow > 0) await sleep(reconnectDelay(gapsInARow, s.reconnectDelayMs), opts.signal, closed);
        if (opts.signal?.aborted || closed.aborted) return;
        gapsInARow++;
        // Resumed from now (by the server's clock, with the resume's 5 s overlap): a change the re-read misses
        // (it committed after the re-read, before the server listened) comes in the replay, whatever its `at`.
        started = conn.now();
        vars = resume();
        const end = new AbortController();
        updates = gapThenLive(gap, subscribe(vars, end.signal), end);
      }
    }
  }
  for await (const u of resubscribing(conn, s, open, opts.signal)) {
    if ('gap' in u) {
      await opts.onGap?.(u.gap);
      continue;
    }
    if (!yielded.add(u)) continue;
    gapsInARow = 0;
    yield u;
  }
}
