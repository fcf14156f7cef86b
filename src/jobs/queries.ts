/**
 * Reading jobs for the API, always through the viewer: another owner's job does not exist for it.
 */
import { getJob } from '../db/jobs.js';
import { countByType, eventsOf, listDeadLetters } from '../db/queries.js';
import type { JobRow } from '../db/schema.js';
import { PublicError, ErrorCode } from '../errors.js';
import { canSee, isUuid, type JobDeps, type Viewer } from './deps.js';

export const MAX_PAGE_SIZE = 100;

export async function findJob(deps: JobDeps, viewer: Viewer, id: string): Promise<JobRow | null> {
  if (!isUuid(id)) return null;
  const job = await getJob(deps.sql, id);
  return job && canSee(viewer, job) ? job : null;
}

/** Opaque keyset cursor. */
export const encodeCursor = (at: Date, id: string): string =>
  Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');

export function decodeCursor(cursor: string): { at: Date; id: string } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, string];
    const date = new Date(at);
    if (Number.isNaN(date.getTime()) || typeof id !== 'string' || !isUuid(id)) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw new PublicError(ErrorCode.BAD_USER_INPUT, 'invalid cursor');
  }
}

export function pageSize(first: number | null | undefined, fallback = 20): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE_SIZE) {
    throw new PublicError(ErrorCode.BAD_USER_INPUT, `first must be between 0 and ${MAX_PAGE_SIZE}`);
  }
  return n;
}

export interface Connection {
  edges: { cursor: string; node: JobRow }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
  totalCount: number;
}

export async function deadLetterConnection(
  deps: JobDeps,
  viewer: Viewer,
  a: { first?: number | null; after?: string | null; type?: string | null },
): Promise<Connection> {
  const first = pageSize(a.first);
  const { rows, total } = await listDeadLetters(deps.sql, {
    owner: viewer.admin ? null : viewer.owner,
    type: a.type ?? null,
    first,
    after: a.after ? decodeCursor(a.after) : null,
  });
  const edges = rows.slice(0, first).map((node) => ({ cursor: encodeCursor(node.deadLetteredAt!, node.id), node }));
  return {
    edges,
    pageInfo: {
      hasNextPage: rows.length > first,
      hasPreviousPage: Boolean(a.after),
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: total,
  };
}

/** Dead-letter stream message counts per job type (admins see the stream itself). */
async function deadLetterStreamCounts(deps: JobDeps): Promise<Map<string, number>> {
  const info = await deps.nats.jsm.streams.info(deps.names.deadLetterStream, { subjects_filter: '>' });
  const counts = new Map<string, number>();
  for (const t of deps.types.keys()) counts.set(t, info.state.subjects?.[deps.names.deadLetterSubject(t)] ?? 0);
  return counts;
}

export async function queueStats(deps: JobDeps, viewer: Viewer) {
  const [rows, stream] = await Promise.all([
    countByType(deps.sql, viewer.admin ? null : viewer.owner),
    viewer.admin ? deadLetterStreamCounts(deps) : Promise.resolve(null),
  ]);
  const byType = new Map(rows.map((r) => [r.type, r]));
  return [...deps.types.keys()].sort().map((type) => {
    const r = byType.get(type);
    return {
      type,
      queued: r?.queued ?? 0,
      running: r?.running ?? 0,
      retrying: r?.retrying ?? 0,
      failed: r?.failed ?? 0,
      deadLetters: stream ? (stream.get(type) ?? 0) : (r?.deadLettered ?? 0),
    };
  });
}

/** History rows for several jobs at once (one query per GraphQL request batch). */
export const historyOf = (deps: JobDeps, ids: readonly string[]) => eventsOf(deps.sql, ids);
