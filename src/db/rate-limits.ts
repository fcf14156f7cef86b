/**
 * Job types' rate limits (`rate_limits`, one row per limited type): a GCRA bucket shared by every worker
 * process, on PostgreSQL's clock (`clock_timestamp()`). The limit (`max` per `perMs`) comes from the caller's
 * definition with each statement, unless an admin has overridden it (`setRateLimitOverride`): the row's override
 * wins inside the statements, so every worker applies it at its next pull.
 *
 * A start costs one emission interval `perMs / max` of `tat` (the instant the bucket is full again), the
 * bucket holding `burst` (default `max`). Tokens are granted to a pull before it goes out (`takeTokens`) and paid for when it has
 * ended (`settleTokens`), for the messages it brought: until then they are `held`, so tokens out on a pull that
 * waits for messages do not age and let others out meanwhile. So over any stretch of time W at most
 * `burst + W·max/perMs` jobs of the type start.
 */
import type { Sql } from './client.js';

/** Tokens granted to one pull: how many, and the lease period they are held in (`settleTokens` names it). */
export interface Grant {
  granted: number;
  /** When `granted` is 0: milliseconds until one token frees, at the soonest (at least 1). */
  waitMs: number;
  period: number;
}

/** One limit as the statements take it. */
export interface Limit {
  max: number;
  perMs: number;
  /** The bucket's size (default `max`): the most granted at once after an idle spell. */
  burst?: number;
  /**
   * How long a grant may stay held before it stops counting (its worker died before `settleTokens`): a
   * period; a grant lapses two periods after the one it was made in began at the latest.
   */
  leaseMs: number;
}

const MS = `interval '1 millisecond'`;

/**
 * The emission interval in force for a row of `rate_limits` (in an update of it): its admin's override when set,
 * else `callers` (the caller's definition's). Take and settle both use it, so a start is paid at the rate it
 * was granted at.
 */
const EMISSION = (callers: string) => `coalesce(rate_limits.override_per_ms::float8 / rate_limits.override_max, ${callers})`;

/**
 * One statement: rolls the lease periods on, then grants min(n, what the bucket has), 0 with the wait when
 * it is empty. Locks the row (`for update` in the `from`): concurrent calls take turns, each seeing the last
 * one's grant.
 */
const TAKE = `
with c as materialized (select clock_timestamp() as now)
update rate_limits r
set held = g.held + g.granted, held_before = g.held_before, period = g.period, period_start = g.period_start
from (
  select b.*,
    case when b.granted > 0 then 0
      else greatest(1, ceil(extract(epoch from b.base - b.now)::float8 * 1000 - (b.burst - b.held - b.held_before - 1) * b.em))
    end::int as wait_ms
  from (
    select a.*,
      least($2::int, greatest(0, floor(a.burst - extract(epoch from a.base - a.now)::float8 * 1000 / a.em) - a.held - a.held_before))::int as granted
    from (
      select r0.type, c.now, greatest(r0.tat, c.now) as base,
        coalesce(r0.override_burst, $3::int) as burst, coalesce(r0.override_per_ms::float8 / r0.override_max, $4::float8) as em,
        case when c.now >= r0.period_start + 2 * $5::int * ${MS} then r0.period + 2
             when c.now >= r0.period_start + $5::int * ${MS} then r0.period + 1 else r0.period end as period,
        case when c.now >= r0.period_start + $5::int * ${MS} then c.now else r0.period_start end as period_start,
        case when c.now >= r0.period_start + $5::int * ${MS} then 0 else r0.held end as held,
        case when c.now >= r0.period_start + 2 * $5::int * ${MS} then 0
             when c.now >= r0.period_start + $5::int * ${MS} then r0.held else r0.held_before end as held_before
      from rate_limits r0 cross join c
      where r0.type = $1
      for update of r0
    ) a
  ) b
) g
where r.type = g.type
returning g.granted, g.wait_ms as "waitMs", g.period`;

/** Emission interval in milliseconds (fractional). */
const interval = (l: Pick<Limit, 'max' | 'perMs'>) => l.perMs / l.max;

/**
 * Asks for up to `n` tokens of the type's bucket (its row made on first use): what the bucket holds now, less
 * the tokens held by pulls not yet settled (as if those were all used now).
 */
export async function takeTokens(sql: Sql, type: string, n: number, limit: Limit): Promise<Grant> {
  const take = () => sql.unsafe<Grant[]>(TAKE, [type, n, limit.burst ?? limit.max, interval(limit), limit.leaseMs]);
  let [row] = await take();
  if (!row) {
    await sql.unsafe(`insert into rate_limits (type) values ($1) on conflict (type) do nothing`, [type]);
    [row] = await take();
  }
  return { granted: row!.granted, waitMs: row!.waitMs, period: Number(row!.period) };
}

/**
 * A pull granted `grant.granted` tokens has ended having brought `used` messages: they are paid for from now
 * (tat moves on by used × perMs/max), and the grant is no longer held, so the tokens it did not use are back
 * at once. A grant whose period has lapsed is held no longer: only the payment is made.
 */
export async function settleTokens(sql: Sql, type: string, grant: Grant, used: number, limit: Limit): Promise<void> {
  await sql.unsafe(
    `update rate_limits set
       held = case when period = $2::bigint then greatest(held - $3::int, 0) else held end,
       held_before = case when period = $2::bigint + 1 then greatest(held_before - $3::int, 0) else held_before end,
       tat = greatest(tat, clock_timestamp()) + $4::int * ${EMISSION('$5::float8')} * ${MS}
     where type = $1`,
    [type, grant.period, grant.granted, used, interval(limit)],
  );
}

/** An admin's override of a type's limit (`setJobTypeRateLimit`), as the row holds it. */
export interface RateLimitOverride {
  type: string;
  max: number;
  perMs: number;
  burst: number;
  setAt: Date;
}

const OVERRIDE = `type, override_max as max, override_per_ms as "perMs", override_burst as burst, override_set_at as "setAt"`;

/**
 * `tat` carried over to a new emission interval `next`: the wait still to come is scaled from the interval in
 * force (the override, else `code`, the API server's definition's) to the new one, so the starts already paid
 * for count at the new rate, and clearing a slow override (one an hour) does not leave the type waiting an hour.
 */
const RESCALED_TAT = (next: string, code: string) =>
  `case when rate_limits.tat > clock_timestamp()
     then clock_timestamp() + (rate_limits.tat - clock_timestamp()) * (${next} / ${EMISSION(code)})
     else rate_limits.tat end`;

/** Every override in force. */
export function readRateLimitOverrides(sql: Sql): Promise<RateLimitOverride[]> {
  return sql.unsafe<RateLimitOverride[]>(`select ${OVERRIDE} from rate_limits where override_max is not null`);
}

/**
 * Sets the type's override (the row made if no worker has asked yet); `code` is the definition's limit it
 * overrides, for the carry-over of `tat`.
 */
export async function setRateLimitOverride(
  sql: Sql,
  type: string,
  limit: { max: number; perMs: number; burst: number },
  code: Pick<Limit, 'max' | 'perMs'>,
): Promise<RateLimitOverride> {
  const [row] = await sql.unsafe<RateLimitOverride[]>(
    `insert into rate_limits as rate_limits (type, override_max, override_per_ms, override_burst, override_set_at)
     values ($1, $2, $3, $4, clock_timestamp())
     on conflict (type) do update set
       tat = ${RESCALED_TAT('$3::float8 / $2::int', '$5::float8')},
       override_max = excluded.override_max, override_per_ms = excluded.override_per_ms,
       override_burst = excluded.override_burst, override_set_at = excluded.override_set_at
     returning ${OVERRIDE}`,
    [type, limit.max, limit.perMs, limit.burst, interval(code)],
  );
  return row!;
}

/**
 * Clears the type's override (nothing if it has none): its definition's limit (`code`) holds again. With no
 * `code` (a type whose definition has no limit, or that this server does not have: an override left from when
 * it had one), nothing is owed any more. Whether there was an override to clear.
 */
export async function clearRateLimitOverride(sql: Sql, type: string, code: Pick<Limit, 'max' | 'perMs'> | null): Promise<boolean> {
  const cleared = await sql.unsafe(
    `update rate_limits set
       tat = case when $2::float8 is null then least(rate_limits.tat, clock_timestamp()) else ${RESCALED_TAT('$2::float8', '$2::float8')} end,
       override_max = null, override_per_ms = null, override_burst = null, override_set_at = null
     where type = $1 and override_max is not null
     returning type`,
    [type, code ? interval(code) : null],
  );
  return cleared.length > 0;
}
