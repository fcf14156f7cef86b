/**
 * `jobUpdates(filter)`: live updates of many jobs, filtered on NATS subjects where the filter allows it.
 * The update subject is `<prefix>job.<type>.<STATE>.<id>`, so:
 * - `ids` → one pattern per id (`job.*.*.<id>`); `types`/`states` are then checked in process;
 * - otherwise `types` × `states` → one pattern per pair (`job.<type>.<STATE>.*`, `*` for an absent list).
 * Patterns are shared with every other subscriber through the hub. Updates are checked against the whole
 * filter and the viewer (another owner's job is never sent), and deduplicated per job by seq.
 *
 * With `since`, the recorded history (`job_history`) of the viewer's matching jobs at or after `since` is sent
 * first, in `at` order, then the live updates. Listening starts before PostgreSQL is read (the NATS server
 * has the subscriptions by then: hub.ts `subscribed`), and the live updates wait in the inbox meanwhile; the
 * per-job seq dedupe drops those the replay already sent, so there is no gap and no duplicate at the switch.
 * `>=`, not `>`: several changes share a millisecond (a `submitJobs` batch shares one `now()`), and `at` is
 * sent to the millisecond (PostgreSQL keeps microseconds; the Date truncates), so the changes at exactly
 * `since` come again and the client drops those it saw by (jobId, seq).
 * With `lastSeenAt` instead (a resume: the latest `at` the client saw), the replay starts RESUME_OVERLAP_MS
 * before it, as a change that committed after the one the client saw can carry an earlier `at`; the client
 * drops what it saw of those by (jobId, seq), and only the changes at or after `lastSeenAt` count towards
 * MAX_REPLAY_ROWS (the overlap has its own, larger bound), so a short disconnect on a busy system is not
 * refused for the changes the client had already received. Live progress reports are recorded throttled: the
 * replay has the milestones, not every report. A subscriber with `since` or `lastSeenAt` that falls behind by
 * more than the inbox holds (a long replay still being sent, a slow socket) is not cut short: the inbox
 * empties and the stream reads PostgreSQL again from the earliest `at` it dropped, with the same dedupe. After
 * the API's NATS connection is back, every subscription reads the recorded changes from when NATS may have
 * lost them (the hub's `resync`) the same way; the subscriptions of one viewer with the same filter reading
 * from the same time share one read (shared-reads.ts). Those whose filters name ids are read together
 * whatever their filters (reread-groups.ts): each gets what its own filter selects, and checks its own bounds
 * here. Other different filters are read apart: each has its own bounds and its own plan.
 */
import type { Sql } from '../db/client.js';
import { getJob } from '../db/jobs.js';
import { changedJobsSince, historySince } from '../db/queries.js';
import { typesWithJobsLeft } from '../db/type-stats.js';
import { ErrorCode, PublicError } from '../errors.js';
import { JOB_TYPE_NAME } from '../jobs/definition.js';
import { isUuid } from '../jobs/deps.js';
import { quoted } from '../jobs/payload-check.js';
import type { JobState } from '../jobs/state.js';
import type { JobUpdateMessage } from '../messaging/messages.js';
import type { Names } from '../messaging/names.js';
import { returnsAtOnce } from './generator.js';
import { UpdateInbox } from './inbox.js';
import type { UpdateHub } from './hub.js';
import type { RereadGroups } from './reread-groups.js';
import { unshared, type SharedReads } from './shared-reads.js';
import { updateFromEvent } from './updates.js';
import {
  checkBound,
  checkInstant,
  MAX_OVERLAP_ROWS,
  MAX_REPLAY_CANDIDATES,
  MAX_REPLAY_ROWS,
  RESUME_OVERLAP_MS,
  YEAR_1,
  type ReplayRange,
} from './replay-bounds.js';

/** Most types in one filter (types × states subjects are subscribed). */
export const MAX_UPDATE_TYPES = 20;
/** Most ids in one filter. */
export const MAX_UPDATE_IDS = 100;
export interface UpdatesFilter {
  types?: readonly string[] | null;
  states?: readonly JobState[] | null;
  ids?: readonly string[] | null;
}

export interface JobUpdatesDeps {
  sql: Sql;
  hub: UpdateHub;
  names: Names;
  /** Registered job types (a filter naming another type is refused unless the viewer has jobs of it left). */
  knownTypes: ReadonlySet<string>;
  /** Updates buffered for a slow subscriber; beyond it the oldest are dropped. @default 1000 */
  maxBuffer?: number;
  /**
   * Shares the rereads (after a reconnect, or an overflow) of identical subscriptions, process-wide.
   * @default each subscription reads alone
   */
  shareReads?: SharedReads;
  /**
   * Reads the rereads of subscriptions filtering on ids together, whatever their filters, process-wide.
   * @default each reads alone (or shares through `shareReads`)
   */
  rereadGroups?: RereadGroups;
}

const unique = <T>(xs: readonly T[] | null | undefined): T[] | null => (xs ? [...new Set(xs)] : null);

/** The filter's job ids that can name a job, lower case, each once (null: no `ids` in the filter). */
const jobIdsOf = (f: UpdatesFilter): string[] | null => unique(f.ids?.filter(isUuid).map((id) => id.toLowerCase()));

/** The subject patterns that cover a filter (none when it can match nothing). */
export function updatePatterns(names: Names, f: UpdatesFilter): string[] {
  const ids = jobIdsOf(f);
  if (ids) return ids.map((id) => names.jobUpdatesPattern(id));
  const types: (string | null)[] = unique(f.types) ?? [null];
  const states: (JobState | null)[] = unique(f.states) ?? [null];
  return types.flatMap((t) => states.map((s) => names.updatesPattern(t, s)));
}

/** Whether an update matches the whole filter (patterns narrow on what they can; this checks the rest). */
function matches(f: UpdatesFilter, u: JobUpdateMessage): boolean {
  return (
    (!f.ids || f.ids.some((id) => id.toLowerCase() === u.jobId)) &&
    (!f.types || f.types.includes(u.type)) &&
    (!f.states || f.states.includes(u.state))
  );
}

/**
 * Refuses (BAD_USER_INPUT) a type that this server does not have, unless the viewer still has jobs of it
 * that `queueStats` counts (queued, running, retrying or failed): a type removed or renamed in a deploy can
 * be watched while jobs of it are left, and a misspelt one is refused.
 */
async function checkTypes(deps: JobUpdatesDeps, types: readonly string[] | null | undefined, owner: string | null): Promise<void> {
  const other = unique(types?.filter((t) => !deps.knownTypes.has(t)));
  if (!other?.length) return;
  // A name no job type can have (defineJobType's syntax) has no jobs either: no need to ask PostgreSQL.
  const badName = other.find((t) => !JOB_TYPE_NAME.test(t));
  const left = new Set(badName === undefined ? await typesWithJobsLeft(deps.sql, other, owner) : []);
  const unknown = badName ?? other.find((t) => !left.has(t));
  if (unknown !== undefined) throw new PublicError(ErrorCode.BAD_USER_INPUT, `unknown job type ${quoted(unknown)}`);
}

/** What identifies a read of recorded changes: the viewer, the filter (as sets) and its range. */
function readKey(f: UpdatesFilter, owner: string | null, r: ReplayRange): string {
  const set = (xs: readonly string[] | null | undefined) => (xs ? [...new Set(xs)].sort() : null);
  return JSON.stringify([owner, set(jobIdsOf(f)), set(f.types), set(f.states), r.from.getTime(), r.counted.getTime()]);
}

/**
 * The recorded updates of the viewer's jobs matching the filter in the range, in `at` order.
 * REPLAY_TOO_LARGE past MAX_REPLAY_ROWS rows or changed jobs (MAX_REPLAY_CANDIDATES with a `states` filter)
 * at or after `counted`, or past MAX_OVERLAP_ROWS before it: never a silent cut. With `groups`, a filter on
 * ids is read with the other rereads of its burst (the same rows, and the same bounds, checked here).
 */
async function recordedSince(
  deps: JobUpdatesDeps,
  filter: UpdatesFilter,
  owner: string | null,
  r: ReplayRange,
  groups?: RereadGroups,
): Promise<JobUpdateMessage[]> {
  const ids = jobIdsOf(filter);
  if (ids?.length === 0) return [];
  const types = unique(filter.types);
  const states = unique(filter.states);
  const candidates = states ? MAX_REPLAY_CANDIDATES : MAX_REPLAY_ROWS;
  const overlap = r.counted > r.from ? MAX_OVERLAP_ROWS : 0;
  const jobsLimit = candidates + overlap + 1;
  const rowsLimit = MAX_REPLAY_ROWS + overlap + 1;
  const read = ids && groups ? await groups({ owner, from: r.from, ids, types, states, jobsLimit, rowsLimit }) : null;
  const jobs = read?.jobs ?? (await changedJobsSince(deps.sql, r.from, { owner, types, ids }, jobsLimit));
  checkBound(jobs.map((j) => j.changedAt), r, candidates, overlap, 'changed jobs');
  if (!jobs.length) return [];
  const typeOf = new Map(jobs.map((j) => [j.id, j.type]));
  const rows = read?.rows ?? (await historySince(deps.sql, [...typeOf.keys()], r.from, states, rowsLimit));
  checkBound(rows.map((e) => e.at), r, MAX_REPLAY_ROWS, overlap, 'recorded changes');
  return rows.map((e) => updateFromEvent(typeOf.get(e.jobId)!, e));
}

/**
 * Opens the stream for a viewer (`owner` null = sees every job), replaying the recorded changes at or after
 * `since` first when it is given, or from RESUME_OVERLAP_MS before `lastSeenAt` (only those at or after it
 * counted). It never completes by itself; the client ends it. BAD_USER_INPUT for an unknown type (one the
 * server does not have and the viewer has no jobs of left, see checkTypes), a too-long
 * list, both `since` and `lastSeenAt`, or one in the future; REPLAY_TOO_LARGE for one with too much history
 * after it.
 */
export async function openJobUpdates(
  deps: JobUpdatesDeps,
  filter: UpdatesFilter,
  owner: string | null,
  since: Date | null = null,
  lastSeenAt: Date | null = null,
): Promise<AsyncGenerator<JobUpdateMessage>> {
  if ((filter.types?.length ?? 0) > MAX_UPDATE_TYPES) throw new PublicError(ErrorCode.BAD_USER_INPUT, `filter.types takes at most ${MAX_UPDATE_TYPES} values`);
  if ((filter.ids?.length ?? 0) > MAX_UPDATE_IDS) throw new PublicError(ErrorCode.BAD_USER_INPUT, `filter.ids takes at most ${MAX_UPDATE_IDS} values`);
  await checkTypes(deps, filter.types, owner);
  if (since && lastSeenAt) throw new PublicError(ErrorCode.BAD_USER_INPUT, 'give `since` or `lastSeenAt`, not both');
  checkInstant('since', since);
  checkInstant('lastSeenAt', lastSeenAt);
  const range: ReplayRange | null = since
    ? { from: since, counted: since, arg: 'since' }
    : lastSeenAt && { from: new Date(Math.max(lastSeenAt.getTime() - RESUME_OVERLAP_MS, YEAR_1)), counted: lastSeenAt, arg: 'lastSeenAt' };

  /**
   * The earliest `at` (ms) to read from PostgreSQL again: of the updates the inbox dropped (with a replay), or
   * from which NATS may have lost them (a reconnect). Never before what the subscriber asked for.
   */
  let rereadFrom: number | null = null;
  const from0 = range?.from.getTime() ?? Date.now();
  const rereadAfter = (at: number) => {
    if (at < (rereadFrom ?? Infinity)) rereadFrom = Math.max(at, from0);
  };
  const onEmpty = (dropped: readonly JobUpdateMessage[]) => dropped.forEach((d) => rereadAfter(Date.parse(d.at)));
  const inbox = new UpdateInbox({ max: deps.maxBuffer ?? 1000, ...(range ? { onFull: 'empty', onEmpty } : { onFull: 'drop-oldest' }) });
  const listener = {
    update(u: JobUpdateMessage) {
      // Another owner's update (its owner is in it) never takes a place in the inbox: a burst of theirs would
      // push out the viewer's own. One without an owner is checked when taken (visible).
      if (owner !== null && u.owner !== undefined && u.owner !== owner) return;
      if (matches(filter, u)) inbox.push(u);
    },
    resync(from: Date) {
      rereadAfter(from.getTime());
      inbox.wake();
    },
  };
  const share = deps.shareReads ?? unshared;
  /**
   * The recorded changes from `from` on (shared with the identical subscriptions reading at the same time).
   * Past the bound, a subscription with `since` or `lastSeenAt` ends with the error (nothing recorded is
   * skipped silently); one without skips them, as it drops what its inbox cannot hold. What is before
   * `lastSeenAt` counts as its overlap, as in the first read.
   */
  const reread = (from: Date): Promise<JobUpdateMessage[]> => {
    const r: ReplayRange = { from, counted: new Date(Math.max(from.getTime(), range?.counted.getTime() ?? 0)), arg: range?.arg ?? 'since' };
    const read = deps.rereadGroups && filter.ids
      ? recordedSince(deps, filter, owner, r, deps.rereadGroups) // grouped with other filters' (and identical ones)
      : share(readKey(filter, owner, r), () => recordedSince(deps, filter, owner, r));
    return read.catch((e: unknown) => {
      if (range || !(e instanceof PublicError)) throw e;
      return [];
    });
  };
  const patterns = updatePatterns(deps.names, filter);
  const unlisteners = patterns.map((p) => deps.hub.listen(p, listener));
  const unlisten = () => unlisteners.forEach((u) => u());
  let replay: JobUpdateMessage[] = [];
  if (range) {
    try {
      await deps.hub.subscribed(patterns); // else an update published just after the read could be missed
      replay = await recordedSince(deps, filter, owner, range); // live updates wait in the inbox meanwhile
    } catch (e) {
      unlisten();
      throw e;
    }
  }

  const lastSeq = new Map<string, number>();
  const ownerOf = new Map<string, string | null>();
  const bounded = <V>(m: Map<string, V>) => {
    if (m.size > 10_000) m.delete(m.keys().next().value!);
  };
  /** Whether the viewer may see the update's job (its owner is in the update, or read once and cached). */
  async function visible(u: JobUpdateMessage): Promise<boolean> {
    if (owner === null) return true;
    if (u.owner !== undefined) return u.owner === owner;
    if (!ownerOf.has(u.jobId)) {
      ownerOf.set(u.jobId, (await getJob(deps.sql, u.jobId))?.owner ?? null);
      bounded(ownerOf);
    }
    return ownerOf.get(u.jobId) === owner;
  }

  /** Notes `u` as its job's last update sent. */
  const sent = (u: JobUpdateMessage) => {
    lastSeq.delete(u.jobId); // re-insert: the map keeps the most recently active jobs
    lastSeq.set(u.jobId, u.seq);
    bounded(lastSeq);
  };

  async function* stream(): AsyncGenerator<JobUpdateMessage> {
    try {
      for (;;) {
        // The replay is the viewer's jobs already (owner in the query); the live ones waiting after it that it
        // already sent are dropped below by seq.
        for (const u of replay) {
          if (u.seq <= (lastSeq.get(u.jobId) ?? 0)) continue;
          sent(u);
          yield u;
        }
        replay = [];
        if (rereadFrom !== null) {
          const from = new Date(rereadFrom);
          rereadFrom = null;
          replay = await reread(from);
          continue;
        }
        const u = await inbox.take();
        if (u === null) return;
        if (!u || u.seq <= (lastSeq.get(u.jobId) ?? 0) || !(await visible(u))) continue;
        sent(u);
        yield u; // the hub's own object (JobUpdate has no owner field): subscribers share its payload
      }
    } finally {
      unlisten();
    }
  }
  return returnsAtOnce(stream(), () => {
    unlisten();
    inbox.close();
  });
}
