/**
 * Reading jobs for the API, always through the viewer: another owner's job does not exist for it.
 */
import { getJob } from '../db/jobs.js';
import {
  countDeadLetters,
  countJobs,
  deadLetterExistsAtOrNewer,
  attemptErrorsOf,
  eventPagesOf,
  idempotencyKeysOf,
  startByOf,
  jobExistsBeyond,
  listDeadLetters,
  listJobs,
  type EventRow,
  type EventsPageRead,
  type JobListFilter,
  type Keyset,
  type PagedJob,
} from '../db/queries.js';
import type { JobRow } from '../db/schema.js';
import { PublicError, ErrorCode } from '../errors.js';
import { canSee, isUuid, type JobDeps, type Viewer } from './deps.js';
import { isStorableText } from './payload-check.js';
import { JOB_STATES, type JobState } from './state.js';

export const MAX_PAGE_SIZE = 100;
/** Page size when neither `first` nor `last` is given. */
export const DEFAULT_PAGE_SIZE = 20;
/**
 * Most rows of a job's history one `Job.events` page answers, and how many it answers when neither `first`
 * nor `last` is given: an hour-long job records about 14,000. At 500, a page with the six fields of a
 * JobEvent fits the default query cost (GRAPHQL_MAX_COST 5000) even when its size is a variable.
 */
export const MAX_EVENTS_PAGE_SIZE = 500;
/** Most values accepted in one list filter (`types`, `states`). */
export const MAX_FILTER_VALUES = 100;

export async function findJob(deps: JobDeps, viewer: Viewer, id: string): Promise<JobRow | null> {
  if (!isUuid(id)) return null;
  const job = await getJob(deps.sql, id);
  return job && canSee(viewer, job) ? job : null;
}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{1,6}Z$/;

/**
 * Whether a cursor's instant is one `encodeCursor` could have written, so PostgreSQL takes it: a real day and
 * time (JavaScript rolls Feb 30 over to March and reads 24:00; PostgreSQL refuses the one and year 0).
 */
const isCursorInstant = (at: string): boolean => {
  if (!ISO_MICROS.test(at) || at.startsWith('0000')) return false;
  const ms = Date.parse(at);
  return !Number.isNaN(ms) && new Date(ms).toISOString().slice(0, 19) === at.slice(0, 19);
};

/**
 * The list a cursor belongs to: `jobs` orders by `created_at`, `deadLetters` by `dead_lettered_at`, so one's
 * cursor would silently select a wrong page of the other.
 */
export type CursorList = 'jobs' | 'deadLetters';

/** Opaque keyset cursor: base64url of `[list, timestamp with microseconds, id]`. */
export const encodeCursor = (list: CursorList, k: Keyset): string =>
  Buffer.from(JSON.stringify([list, k.at, k.id])).toString('base64url');

/** Decodes a cursor of `list`; BAD_USER_INPUT for anything that `encodeCursor(list, …)` did not make. */
export function decodeCursor(list: CursorList, cursor: string): Keyset {
  // Not read as "no cursor": a client that lost its cursor would otherwise start again at the first page.
  if (cursor === '') throw new PublicError(ErrorCode.BAD_USER_INPUT, 'invalid cursor: empty (leave it out for the first page)');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString());
  } catch {
    parsed = null;
  }
  const [kind, at, id] = Array.isArray(parsed) ? (parsed as unknown[]) : [];
  if (typeof at !== 'string' || !isCursorInstant(at) || typeof id !== 'string' || !isUuid(id)) {
    throw new PublicError(ErrorCode.BAD_USER_INPUT, 'invalid cursor');
  }
  if (kind !== list) throw new PublicError(ErrorCode.BAD_USER_INPUT, `invalid cursor: not one of ${list}`);
  return { at, id };
}

/** Checks a page size (`first` or `last`): 0..max, `fallback` when absent. */
export function pageSize(first: number | null | undefined, fallback = DEFAULT_PAGE_SIZE, name = 'first', max = MAX_PAGE_SIZE): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new PublicError(ErrorCode.BAD_USER_INPUT, `${name} must be between 0 and ${max}`);
  }
  return n;
}

/** Refuses a page that gives both `first` and `last`. */
function firstOrLast(a: { first?: number | null; last?: number | null }): void {
  if (a.first != null && a.last != null) {
    throw new PublicError(ErrorCode.BAD_USER_INPUT, 'give either first or last, not both');
  }
}

/** A Relay connection of jobs. `totalCount` is computed only when asked for. */
export interface Connection {
  edges: { cursor: string; node: JobRow }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: () => Promise<number>;
}

const edgeOf = (list: CursorList) => (node: PagedJob) => ({ cursor: encodeCursor(list, { at: node.keyAt, id: node.id }), node });

export interface JobsArgs {
  filter?: {
    ids?: readonly string[] | null;
    states?: readonly JobState[] | null;
    types?: readonly string[] | null;
    createdAfter?: Date | null;
    createdBefore?: Date | null;
  } | null;
  first?: number | null;
  after?: string | null;
  last?: number | null;
  before?: string | null;
}

/**
 * A filter's job types, each once, without the names no job can have (NUL in them: PostgreSQL refuses such
 * text, so they would fail the query instead of matching nothing); null: every type.
 */
export const typesFilter = (types: readonly string[] | null | undefined): string[] | null =>
  types ? [...new Set(types)].filter(isStorableText) : null;

function listFilter(viewer: Viewer, f: JobsArgs['filter']): JobListFilter {
  for (const [name, values] of [['ids', f?.ids], ['states', f?.states], ['types', f?.types]] as const) {
    if (values && values.length > MAX_FILTER_VALUES) {
      throw new PublicError(ErrorCode.BAD_USER_INPUT, `filter.${name} takes at most ${MAX_FILTER_VALUES} values`);
    }
  }
  const states = f?.states ? [...new Set(f.states)].filter((s) => JOB_STATES.includes(s)) : null;
  return {
    owner: viewer.admin ? null : viewer.owner,
    // An id that is not a UUID is no job's: it matches nothing (as a cast would fail the whole query).
    ids: f?.ids ? [...new Set(f.ids.filter(isUuid).map((id) => id.toLowerCase()))] : null,
    states,
    // A type PostgreSQL cannot store (U+0000 in it) is no job's: it matches nothing, like any unknown type.
    types: typesFilter(f?.types),
    createdAfter: fromYearOne('createdAfter', f?.createdAfter),
    createdBefore: fromYearOne('createdBefore', f?.createdBefore),
  };
}

/** A filter's instant, checked by `checkYearOne`. */
function fromYearOne(name: string, d: Date | null | undefined): Date | null {
  checkYearOne(`filter.${name}`, d ?? null);
  return d ?? null;
}

/** BAD_USER_INPUT for an instant before year 1: the DateTime scalar takes year 0, which PostgreSQL does not hold. */
export function checkYearOne(name: string, d: Date | null): void {
  if (d && d.getUTCFullYear() < 1) throw new PublicError(ErrorCode.BAD_USER_INPUT, `${name}: must be in year 1 or later`);
}

/**
 * `jobs(filter, first, after, last, before)`: the viewer's jobs, newest first, as a Relay connection.
 * `first` takes from the newest end of the window between the cursors, `last` from the oldest end; giving
 * both is refused. Each page is one index range scan; `hasPreviousPage`/`hasNextPage` beyond a cursor are
 * an EXISTS probe on the same index.
 */
export async function jobConnection(deps: JobDeps, viewer: Viewer, a: JobsArgs): Promise<Connection> {
  firstOrLast(a);
  const filter = listFilter(viewer, a.filter);
  const after = a.after != null ? decodeCursor('jobs', a.after) : null;
  const before = a.before != null ? decodeCursor('jobs', a.before) : null;
  const backwards = a.last != null;
  const size = backwards ? pageSize(a.last, DEFAULT_PAGE_SIZE, 'last') : pageSize(a.first);
  const window = { olderThan: after, newerThan: before, limit: size + 1 };
  // Paging backwards reads from the oldest end of the window; the page is turned newest first again.
  const [rows, beyond] = await Promise.all([
    listJobs(deps.sql, filter, { ...window, from: backwards ? 'oldest' : 'newest' }),
    backwards
      ? before ? jobExistsBeyond(deps.sql, filter, before, 'older') : Promise.resolve(false)
      : after ? jobExistsBeyond(deps.sql, filter, after, 'newer') : Promise.resolve(false),
  ]);
  const more = rows.length > size;
  const page = rows.slice(0, size);
  if (backwards) page.reverse();
  const edges = page.map(edgeOf('jobs'));
  let total: Promise<number> | null = null;
  return {
    edges,
    pageInfo: {
      hasNextPage: backwards ? beyond : more,
      hasPreviousPage: backwards ? more : beyond,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => (total ??= countJobs(deps.sql, filter)),
  };
}

const emptyConnection: Connection = {
  edges: [],
  pageInfo: { hasNextPage: false, hasPreviousPage: false, startCursor: null, endCursor: null },
  totalCount: async () => 0,
};

export async function deadLetterConnection(
  deps: JobDeps,
  viewer: Viewer,
  a: { first?: number | null; after?: string | null; type?: string | null },
): Promise<Connection> {
  const first = pageSize(a.first);
  const after = a.after != null ? decodeCursor('deadLetters', a.after) : null;
  if (a.type != null && !isStorableText(a.type)) return emptyConnection; // no job has such a type
  const which = { owner: viewer.admin ? null : viewer.owner, type: a.type ?? null };
  const [rows, before] = await Promise.all([
    listDeadLetters(deps.sql, { ...which, first, after }),
    after ? deadLetterExistsAtOrNewer(deps.sql, which, after) : Promise.resolve(false),
  ]);
  const edges = rows.slice(0, first).map(edgeOf('deadLetters'));
  let total: Promise<number> | null = null;
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: before,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => (total ??= countDeadLetters(deps.sql, which)),
  };
}

/** `Job.events(after, first, last)`. */
export interface EventsArgs {
  after?: number | null;
  first?: number | null;
  last?: number | null;
}

/** A page of a job's history, checked: which rows `Job.events` answers. */
export type EventsPage = Omit<EventsPageRead, 'jobId' | 'untilSeq'>;

/**
 * Checks `Job.events`' arguments: the rows after seq `after` (0: from the start), the first `first` of them
 * (MAX_EVENTS_PAGE_SIZE when neither is given) or the last `last`; both, a size outside
 * 0..MAX_EVENTS_PAGE_SIZE or a negative `after` is BAD_USER_INPUT.
 */
export function eventsPage(a: EventsArgs): EventsPage {
  firstOrLast(a);
  const afterSeq = a.after ?? 0;
  if (afterSeq < 0) throw new PublicError(ErrorCode.BAD_USER_INPUT, `after must be a seq, 0 or more (seqs start at 1)`);
  return a.last != null
    ? { afterSeq, limit: pageSize(a.last, 0, 'last', MAX_EVENTS_PAGE_SIZE), newest: true }
    : { afterSeq, limit: pageSize(a.first, MAX_EVENTS_PAGE_SIZE, 'first', MAX_EVENTS_PAGE_SIZE), newest: false };
}

/** Pages of several jobs' histories, one answer per read, in one query (one per GraphQL request batch). */
export async function eventPages(deps: JobDeps, reads: readonly EventsPageRead[]): Promise<EventRow[][]> {
  const pages: EventRow[][] = reads.map(() => []);
  for (const { read, ...row } of await eventPagesOf(deps.sql, reads)) pages[read]!.push(row);
  return pages;
}

/** The idempotency keys of several jobs at once (one query per GraphQL request batch). */
export const idempotencyKeys = (deps: JobDeps, ids: readonly string[]) => idempotencyKeysOf(deps.sql, ids);
export const startByTimes = (deps: JobDeps, ids: readonly string[]) => startByOf(deps.sql, ids);

/** The attempt errors of several jobs at once (one query per GraphQL request batch). */
export const attemptErrors = (deps: JobDeps, ids: readonly string[]) => attemptErrorsOf(deps.sql, ids);
