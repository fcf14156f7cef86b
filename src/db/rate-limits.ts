/**
 * Job types' rate limits (`rate_limits`, one row per limited type): a GCRA bucket shared by every worker
 * process, on PostgreSQL's clock (`clock_timestamp()`). The limit (`max` per `perMs`) comes from the caller's
 * definition with each statement; the row keeps only the state.
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
      else greatest(1, ceil(extract(epoch from b.base - b.now)::float8 * 1000 - ($3::int - b.held - b.held_before - 1) * $4::float8))
    end::int as wait_ms
  from (
    select a.*,
      least($2::int, greatest(0, floor($3::int - extract(epoch from a.base - a.now)::float8 * 1000 / $4::float8) - a.held - a.held_before))::int as granted
    from (
      select r0.type, c.now, greatest(r0.tat, c.now) as base,
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
const interval = (l: Limit) => l.perMs / l.max;

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
       tat = greatest(tat, clock_timestamp()) + $4::int * $5::float8 * ${MS}
     where type = $1`,
    [type, grant.period, grant.granted, used, interval(limit)],
  );
}
