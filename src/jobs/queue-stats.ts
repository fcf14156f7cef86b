/**
 * `queueStats`, read for the API through the viewer (an owner's own jobs; admins see every job and the
 * dead-letter stream itself).
 */
import { pausedTypes } from '../db/pauses.js';
import { readRateLimitOverrides } from '../db/rate-limits.js';
import { countByType, ratesByType } from '../db/type-stats.js';
import { orAfter } from '../deadline.js';
import { typeToken } from '../messaging/names.js';
import { effectiveRateLimit } from './definition.js';
import type { JobDeps, Viewer } from './deps.js';

/** How long `queueStats` waits for the dead-letter stream's counts before it answers without them. */
const STREAM_COUNTS_WAIT_MS = 1500;

/**
 * Dead-letter stream message counts per job type (admins see the stream itself), summed over the type's
 * subjects: one per job, and the type's own for copies made before those; null when NATS does not answer in
 * STREAM_COUNTS_WAIT_MS (down, restarting): the counts PostgreSQL records are answered instead, so queueStats
 * keeps working through a NATS outage.
 */
async function deadLetterStreamCounts(deps: JobDeps): Promise<((type: string) => number) | null> {
  const read = deps.nats.jsm.streams.info(deps.names.deadLetterStream, { subjects_filter: deps.names.deadLetterPattern }).catch((e: unknown) => {
    deps.log.warn({ err: e }, 'queueStats: dead-letter stream not readable; answering the recorded dead letters');
    return null;
  });
  const info = await orAfter(read, STREAM_COUNTS_WAIT_MS, null);
  if (!info) return null;
  const counts = new Map<string, number>();
  for (const [subject, n] of Object.entries(info.state.subjects ?? {})) {
    const token = deps.names.deadLetterTypeToken(subject);
    if (token !== null) counts.set(token, (counts.get(token) ?? 0) + n);
  }
  return (type) => counts.get(typeToken(type)) ?? 0;
}

/**
 * Per type: counts by state, dead letters, throughput over the last minute, oldest queued age, paused, and the
 * rate limit in force (an admin's override, else this server's definition's). The types are
 * those this server accepts and any other that still has jobs waiting, running or failed (one removed or
 * renamed in a deploy: its jobs wait for a worker of it, or a cancel) or is still paused (a pause left on when
 * it was removed: `resumeJobType` clears it).
 */
export async function queueStats(deps: JobDeps, viewer: Viewer) {
  const owner = viewer.admin ? null : viewer.owner;
  const [rows, rates, stream, paused, overrides] = await Promise.all([
    countByType(deps.sql, owner),
    ratesByType(deps.sql, owner),
    viewer.admin ? deadLetterStreamCounts(deps) : Promise.resolve(null),
    pausedTypes(deps.sql),
    readRateLimitOverrides(deps.sql),
  ]);
  const overrideOf = new Map(overrides.map((o) => [o.type, o]));
  const byType = new Map(rows.map((r) => [r.type, r]));
  const ratesOf = new Map(rates.map((r) => [r.type, r]));
  return [...new Set([...deps.types.keys(), ...byType.keys(), ...paused])].sort().map((type) => {
    const r = byType.get(type);
    return {
      type,
      queued: r?.queued ?? 0,
      scheduled: r?.scheduled ?? 0,
      running: r?.running ?? 0,
      retrying: r?.retrying ?? 0,
      failed: r?.failed ?? 0,
      deadLetters: stream ? stream(type) : (r?.deadLettered ?? 0),
      throughputLastMinute: ratesOf.get(type)?.finishedLastMinute ?? 0,
      oldestQueuedAgeSeconds: ratesOf.get(type)?.oldestQueuedAgeSeconds ?? null,
      paused: paused.has(type),
      rateLimit: effectiveRateLimit(deps.types.get(type)?.rateLimit, overrideOf.get(type)),
    };
  });
}
