/**
 * Pausing job types: `pauseJobType` and `resumeJobType` (admins only) write `paused_job_types` and tell the
 * workers over core NATS (`PauseChange` on `pausesSubject`); workers also read the table at start and every
 * PAUSES_READ_INTERVAL_MS (workers/pauses.ts), so one that missed the message (its NATS connection was down)
 * catches up. `jobTypes` and `queueStats` show which types are paused; `queueStats` (and the
 * `longrun_job_type_paused` gauge) also every paused type this server does not define, so a pause left on
 * when its type was removed from the code is seen, and `resumeJobType` clears it.
 */
import { deletePause, insertPause, readPauses, type PauseRow } from '../db/pauses.js';
import { readRateLimitOverrides, type RateLimitOverride } from '../db/rate-limits.js';
import { UserErrorCode, type UserError } from '../errors.js';
import { effectiveRateLimit, maxAttemptsOf, payloadJsonSchema, type EffectiveRateLimit, type JobType } from './definition.js';
import { requireAdmin, type JobDeps, type Viewer } from './deps.js';

/** What workers hear on `pausesSubject` when a type is paused or resumed. */
export interface PauseChange {
  type: string;
  paused: boolean;
}

/** How often a worker reads the paused types, besides hearing of each change at once. */
export const PAUSES_READ_INTERVAL_MS = 5000;

/**
 * A job type as `jobTypes` answers it (schema: JobType). Its pause is read only when `paused` or `pausedAt`
 * is asked for, its rate limit's override only when `rateLimit` is (each once per request): `jobTypes` alone
 * reads nothing from PostgreSQL.
 */
export interface JobTypeView {
  name: string;
  description: string;
  defaultMaxAttempts: number;
  maxAttempts: number;
  timeoutMs: number;
  payloadSchema: unknown;
  /** The rate limit in force (an admin's override, else the definition's). */
  rateLimit: () => Promise<EffectiveRateLimit | null>;
  pause: () => Promise<PauseRow | undefined>;
}

/**
 * `t` as `jobTypes` answers it. Its pause and its rate limit's override are read when asked for, unless given
 * (a mutation that has just written one): `jobTypes` reads each once for all types instead.
 */
export function jobTypeView(deps: JobDeps, t: JobType, given: Partial<TypeReads> = {}): JobTypeView {
  const { pause, override } = { ...typeReads(deps), ...given };
  const rateLimit = async () => (t.rateLimit ? effectiveRateLimit(t.rateLimit, await override(t.name)) : null);
  return { name: t.name, description: t.description, defaultMaxAttempts: t.maxAttempts, maxAttempts: maxAttemptsOf(t), timeoutMs: t.timeoutMs, payloadSchema: payloadJsonSchema(t), rateLimit, pause: () => pause(t.name) };
}

/** A type's pause and rate-limit override, by type name. */
interface TypeReads {
  pause: (type: string) => Promise<PauseRow | undefined>;
  override: (type: string) => Promise<RateLimitOverride | undefined>;
}

/** Every type's pause and rate-limit override, each read once (one query) when first asked for. */
const typeReads = (deps: JobDeps): TypeReads => ({
  pause: byTypeOnce(() => readPauses(deps.sql)),
  override: byTypeOnce(() => readRateLimitOverrides(deps.sql)),
});

/** Reads the rows once, when first asked for, as a map by type. */
function byTypeOnce<R extends { type: string }>(read: () => Promise<R[]>): (type: string) => Promise<R | undefined> {
  let rows: Promise<Map<string, R>> | null = null;
  return async (type) => (await (rows ??= read().then((rs) => new Map(rs.map((r) => [r.type, r]))))).get(type);
}

/** `jobTypes`: every type this server accepts; their pauses and rate-limit overrides read in one query each, if asked for. */
export function jobTypes(deps: JobDeps): JobTypeView[] {
  const reads = typeReads(deps);
  return [...deps.types.values()].map((t) => jobTypeView(deps, t, reads));
}

/** What `pauseJobType`, `resumeJobType` and `setJobTypeRateLimit` answer (schema: JobTypePayload). */
export type JobTypeResult = { jobType: JobTypeView | null; userErrors: UserError[] };

export const unknownType = (type: string): JobTypeResult => ({
  jobType: null,
  userErrors: [{ code: UserErrorCode.UNKNOWN_JOB_TYPE, field: ['type'], message: `this server has no job type ${JSON.stringify(type.slice(0, 200))}` }],
});

/**
 * Pauses (`paused`) or resumes the type: the row written, then the workers told. Only a type this server
 * defines can be paused; a type it does not define can still be resumed while it is paused (a pause left on
 * when the type was removed from the code), which answers `jobType: null` (there is no type to show).
 */
async function setPaused(deps: JobDeps, viewer: Viewer, type: string, paused: boolean): Promise<JobTypeResult> {
  const what = paused ? 'pauseJobType' : 'resumeJobType';
  requireAdmin(viewer, what);
  const t = deps.types.get(type);
  let row: PauseRow | undefined;
  if (paused) {
    if (!t) return unknownType(type);
    row = await insertPause(deps.sql, type, viewer.owner);
  } else if (!(await deletePause(deps.sql, type)) && !t) {
    return unknownType(type); // neither defined nor paused
  }
  const change: PauseChange = { type, paused };
  try {
    deps.nats.nc.publish(deps.names.pausesSubject, JSON.stringify(change));
  } catch (e) {
    // Recorded: workers read it within PAUSES_READ_INTERVAL_MS.
    deps.log.warn({ err: e, type }, `${what}: recorded; telling the workers over NATS failed, they read it within ${PAUSES_READ_INTERVAL_MS} ms`);
  }
  deps.log.info({ type, by: viewer.owner, defined: t !== undefined }, paused ? 'job type paused' : 'job type resumed');
  return { jobType: t ? jobTypeView(deps, t, { pause: async () => row }) : null, userErrors: [] };
}

export const pauseJobType = (deps: JobDeps, viewer: Viewer, type: string) => setPaused(deps, viewer, type, true);
export const resumeJobType = (deps: JobDeps, viewer: Viewer, type: string) => setPaused(deps, viewer, type, false);
