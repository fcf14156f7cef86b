/**
 * `jobUpdates(filter)`: live updates of many jobs, filtered on NATS subjects where the filter allows it.
 * The update subject is `<prefix>job.<type>.<STATE>.<id>`, so:
 * - `ids` → one pattern per id (`job.*.*.<id>`); `types`/`states` are then checked in process;
 * - otherwise `types` × `states` → one pattern per pair (`job.<type>.<STATE>.*`, `*` for an absent list).
 * Patterns are shared with every other subscriber through the hub. Updates are checked against the whole
 * filter and the viewer (another owner's job is never sent), and deduplicated per job by seq.
 */
import type { Sql } from '../db/client.js';
import { getJob } from '../db/jobs.js';
import { ErrorCode, PublicError } from '../errors.js';
import { isUuid } from '../jobs/deps.js';
import type { JobState } from '../jobs/state.js';
import type { JobUpdateMessage } from '../messaging/messages.js';
import type { Names } from '../messaging/names.js';
import { returnsAtOnce } from './generator.js';
import { UpdateInbox } from './inbox.js';
import type { UpdateHub } from './hub.js';

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
  /** Registered job types (a filter naming another type is refused). */
  knownTypes: ReadonlySet<string>;
  /** Updates buffered for a slow subscriber; beyond it the oldest are dropped. @default 1000 */
  maxBuffer?: number;
}

const unique = <T>(xs: readonly T[] | null | undefined): T[] | null => (xs ? [...new Set(xs)] : null);

/** The subject patterns that cover a filter (none when it can match nothing). */
export function updatePatterns(names: Names, f: UpdatesFilter): string[] {
  const ids = unique(f.ids);
  if (ids) return ids.filter(isUuid).map((id) => names.jobUpdatesPattern(id.toLowerCase()));
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
 * Opens the stream for a viewer (`owner` null = sees every job). It never completes by itself; the client
 * ends it. BAD_USER_INPUT for an unknown type or a too-long list.
 */
export function openJobUpdates(deps: JobUpdatesDeps, filter: UpdatesFilter, owner: string | null): AsyncGenerator<JobUpdateMessage> {
  if ((filter.types?.length ?? 0) > MAX_UPDATE_TYPES) throw new PublicError(ErrorCode.BAD_USER_INPUT, `filter.types takes at most ${MAX_UPDATE_TYPES} values`);
  if ((filter.ids?.length ?? 0) > MAX_UPDATE_IDS) throw new PublicError(ErrorCode.BAD_USER_INPUT, `filter.ids takes at most ${MAX_UPDATE_IDS} values`);
  const unknown = filter.types?.find((t) => !deps.knownTypes.has(t));
  if (unknown !== undefined) throw new PublicError(ErrorCode.BAD_USER_INPUT, `unknown job type ${JSON.stringify(unknown)}`);

  const inbox = new UpdateInbox({ max: deps.maxBuffer ?? 1000, onFull: 'drop-oldest' });
  const listener = {
    update(u: JobUpdateMessage) {
      if (matches(filter, u)) inbox.push(u);
    },
    resync() {
      // Live only: updates missed while NATS reconnected are not replayed (jobProgress(after) can).
    },
  };
  const unlisteners = updatePatterns(deps.names, filter).map((p) => deps.hub.listen(p, listener));
  const unlisten = () => unlisteners.forEach((u) => u());

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

  async function* stream(): AsyncGenerator<JobUpdateMessage> {
    try {
      for (;;) {
        const u = await inbox.take();
        if (u === null) return;
        if (!u || u.seq <= (lastSeq.get(u.jobId) ?? 0) || !(await visible(u))) continue;
        lastSeq.delete(u.jobId); // re-insert: the map keeps the most recently active jobs
        lastSeq.set(u.jobId, u.seq);
        bounded(lastSeq);
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
