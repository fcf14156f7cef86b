/**
 * `setJobTypeRateLimit` (admins only): overrides a rate-limited type's limit at run time, or clears the override.
 * The override is kept on the type's `rate_limits` row, and the rate-limit statements prefer it to the limit each
 * worker passes from its definition (src/db/rate-limits.ts): every worker applies it at its next pull, with no
 * message and no watch. A type without `rateLimit` in its definition is refused: its workers take no tokens, so
 * an override would hold nothing (clearing one left behind is not).
 */
import { clearRateLimitOverride, setRateLimitOverride } from '../db/rate-limits.js';
import { UserErrorCode, type UserError } from '../errors.js';
import { inRange, RATE_LIMIT_MAX_RANGE, RATE_LIMIT_PER_MS_RANGE, type RateLimit } from './definition.js';
import { requireAdmin, type JobDeps, type Viewer } from './deps.js';
import { jobTypeView, unknownType, type JobTypeResult } from './pauses.js';

/** Why the limit is refused (OUT_OF_RANGE on `["rateLimit", <field>]`), as defineJobType checks a definition's. */
function rangeErrors(l: RateLimit): UserError[] {
  const out = (field: string, message: string): UserError => ({ code: UserErrorCode.OUT_OF_RANGE, field: ['rateLimit', field], message });
  const errors: UserError[] = [];
  if (!inRange(l.max, RATE_LIMIT_MAX_RANGE)) errors.push(out('max', `max must be from ${RATE_LIMIT_MAX_RANGE.min} to ${RATE_LIMIT_MAX_RANGE.max}`));
  if (!inRange(l.perMs, RATE_LIMIT_PER_MS_RANGE)) {
    errors.push(out('perMs', `perMs must be from ${RATE_LIMIT_PER_MS_RANGE.min} to ${RATE_LIMIT_PER_MS_RANGE.max} (a day)`));
  }
  if (l.burst !== undefined && !inRange(l.burst, { min: 1, max: Math.max(1, l.max) })) errors.push(out('burst', `burst must be from 1 to max (${l.max})`));
  return errors;
}

/**
 * Sets the type's limit to `input` (burst default max) for every worker from its next pull on, or with `input`
 * null clears the override (its definition's limit holds again). Nothing is written when refused.
 */
export async function setJobTypeRateLimit(
  deps: JobDeps,
  viewer: Viewer,
  type: string,
  input: { max: number; perMs: number; burst?: number | null } | null | undefined,
): Promise<JobTypeResult> {
  requireAdmin(viewer, 'setJobTypeRateLimit');
  if (!input) return clear(deps, viewer, type);
  const t = deps.types.get(type);
  if (!t) return unknownType(type);
  if (!t.rateLimit) {
    const message =
      `${type} has no rateLimit in its definition, so its workers take no tokens and an override would hold nothing: ` +
      'define rateLimit in its defineJobType, or pause the type (pauseJobType) instead';
    return { jobType: null, userErrors: [{ code: UserErrorCode.INVALID_STATE, field: ['type'], message }] };
  }
  const limit = { max: input.max, perMs: input.perMs, burst: input.burst ?? input.max };
  const errors = rangeErrors({ ...limit, burst: input.burst ?? undefined });
  if (errors.length) return { jobType: null, userErrors: errors };
  const override = await setRateLimitOverride(deps.sql, type, limit, t.rateLimit);
  deps.log.info({ type, by: viewer.owner, rateLimit: input }, 'job type rate limit overridden');
  return { jobType: jobTypeView(deps, t, { override: async () => override }), userErrors: [] };
}

/**
 * Clears the type's override. Also for a type whose definition has no limit, or that this server does not have
 * (as `resumeJobType` resumes one): an override left from when it had one would hold again once a limit came
 * back; such a type answers `jobType: null` when it is not this server's, and UNKNOWN_JOB_TYPE when it had no
 * override either.
 */
async function clear(deps: JobDeps, viewer: Viewer, type: string): Promise<JobTypeResult> {
  const t = deps.types.get(type);
  const cleared = await clearRateLimitOverride(deps.sql, type, t?.rateLimit ?? null);
  if (!t && !cleared) return unknownType(type);
  if (cleared) deps.log.info({ type, by: viewer.owner, defined: t !== undefined }, 'job type rate limit override cleared');
  return { jobType: t ? jobTypeView(deps, t, { override: async () => undefined }) : null, userErrors: [] };
}
