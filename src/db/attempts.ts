/**
 * Writes by the holder of a running attempt (its worker), fenced by the attempt, its series and its claim (`Fence`):
 * progress milestones, which also renew the lease and the block of seqs reserved for live progress, and
 * lease renewals with the in-progress acks. A write whose fence is lost answers null.
 */
import type { Sql } from './client.js';
import { FENCE_HOLDS, type Fence } from './transition.js';
import { SEQ_RESERVE } from './transitions.js';

/** A throttled progress write by an attempt's holder: a milestone to record (history row `seq`). */
export interface ProgressWrite extends Fence {
  id: string;
  seq: number;
  /** Stored as `real` (float4): give it `asStoredReal`, so what was published is what is recorded. */
  progress: number;
  message: string | null;
  leaseMs: number;
  /**
   * When the report was made (its published update's `at`), recorded as the history row's; none (or later than
   * PostgreSQL's now, a worker clock that drifted ahead since its claim): now, so that the job's `updated_at`
   * is never before its last row's `at` (queries.ts `changedJobsSince`).
   */
  at?: string;
}

/**
 * A number as a `real` column stores it and PostgreSQL prints it back: rounded to float4 and written as the
 * shortest decimal that rounds to the same float4 (100 / 3 is 33.333332). A progress update published with
 * it carries the value its history row will answer. Of two such decimals equally near the float4 (22.6015625
 * lies halfway between 22.601562 and 22.601563), PostgreSQL (Ryu) prints the one with the even last digit;
 * `toPrecision` would take the larger.
 */
export function asStoredReal(n: number): number {
  const f = Math.fround(n);
  if (!Number.isFinite(f) || f === 0) return f;
  for (let digits = 1; digits < 9; digits++) {
    const nearest = Number(f.toPrecision(digits));
    if (Math.fround(nearest) !== f) continue;
    const even = evenOfTie(f, digits);
    return even !== null && Math.fround(even) === f ? even : nearest;
  }
  return Number(f.toPrecision(9));
}

/**
 * When `f` lies exactly halfway between two decimals of `digits` significant digits and the lower one ends in
 * an even digit: that one (the other is `toPrecision`'s). Otherwise null. A float4's exact decimal expansion
 * is finite; `toExponential(100)` writes it out (up to 101 digits, enough for a tie within 9 digits).
 */
function evenOfTie(f: number, digits: number): number | null {
  const [mantissa, exponent] = Math.abs(f).toExponential(100).split('e') as [string, string];
  const all = mantissa.replace('.', '');
  const kept = all.slice(0, digits);
  if (!/^50*$/.test(all.slice(digits)) || Number(kept.at(-1)) % 2 !== 0) return null;
  return Math.sign(f) * Number(`${kept[0]}.${kept.slice(1)}e${exponent}`);
}

/** What a progress write answers: a cancel was asked for; the seqs reserved for live progress, up to. */
export interface ProgressRecorded {
  cancelRequested: boolean;
  seqReserved: number;
}

/**
 * Progress writes by the attempts' holders, in one statement for all of them (a worker's writes that fall
 * due together): each records its milestone and renews its lease and seq reservation. Answers per write,
 * or null when its fence is lost (the attempt is no longer this worker's). In id order, as transitions lock.
 */
export async function recordProgressMany(sql: Sql, writes: readonly ProgressWrite[]): Promise<(ProgressRecorded | null)[]> {
  if (!writes.length) return [];
  const input = writes
    .map((w) => ({ id: w.id, attempt: w.attempt, series: w.series, token: w.token, seq: w.seq, progress: w.progress, message: w.message, lease_ms: w.leaseMs, at: w.at }))
    .sort((a, b) => (a.id === b.id ? 0 : a.id < b.id ? -1 : 1));
  const rows = await sql.unsafe<(ProgressRecorded & { id: string; attempt: number; series: number })[]>(
    `with x as (
       select * from jsonb_to_recordset($1::text::jsonb)
         as x(id uuid, attempt int, series int, token uuid, seq int, progress real, message text, lease_ms int, at timestamptz)
     ), j as (
       update jobs set progress = x.progress, progress_message = x.message, seq = greatest(jobs.seq, x.seq),
         seq_reserved = greatest(jobs.seq_reserved, x.seq + ${SEQ_RESERVE}), updated_at = now(),
         lease_until = now() + x.lease_ms * interval '1 millisecond'
       from x
       where jobs.id = any($2::uuid[]) and jobs.id = x.id and jobs.state = 'RUNNING' and ${FENCE_HOLDS}
       returning jobs.id, x.seq as x_seq, least(x.at, now()) as x_at, jobs.state, jobs.progress, jobs.progress_message,
         jobs.attempts, jobs.series, jobs.cancel_requested, jobs.seq_reserved
     ), e as (
       insert into job_events (job_id, seq, kind, state, progress, message, attempt, at)
       select id, x_seq, 'progress', state, progress, progress_message, attempts, x_at from j
       on conflict do nothing
     )
     select id, attempts as attempt, series, cancel_requested as "cancelRequested", seq_reserved as "seqReserved" from j`,
    [JSON.stringify(input), input.map((x) => x.id)] as never[],
  );
  // By job and fence: of two writes for one job (an old attempt's and the new one's), one holds the fence.
  const key = (r: Fence & { id: string }) => `${r.id}:${r.series}:${r.attempt}`;
  const found = new Map(rows.map((r) => [key(r), { cancelRequested: r.cancelRequested, seqReserved: r.seqReserved }]));
  return writes.map((w) => found.get(key(w)) ?? null);
}

/** A running attempt whose lease to renew: its job and the attempt that holds it (the fence). */
export interface Lease extends Fence {
  id: string;
}

/**
 * Renews the holders' leases (with their in-progress acks), in one statement for all of them; answers per
 * lease whether a cancel was requested, or null when its fence is lost. In id order, as transitions lock.
 */
export async function renewLeases(sql: Sql, leases: readonly Lease[], leaseMs: number): Promise<({ cancelRequested: boolean } | null)[]> {
  if (!leases.length) return [];
  const ids = leases.map((l) => l.id).sort();
  const fenceOf = new Map(leases.map((l) => [l.id, l]));
  const rows = await sql.unsafe<{ id: string; cancelRequested: boolean }[]>(
    `update jobs set lease_until = now() + $4 * interval '1 millisecond'
     from unnest($1::uuid[], $2::int[], $3::int[], $5::uuid[]) as x(id, attempt, series, token)
     where jobs.id = any($1::uuid[]) and jobs.id = x.id and jobs.state = 'RUNNING' and ${FENCE_HOLDS}
     returning jobs.id, jobs.cancel_requested as "cancelRequested"`,
    [
      ids,
      ids.map((id) => fenceOf.get(id)!.attempt),
      ids.map((id) => fenceOf.get(id)!.series),
      leaseMs,
      ids.map((id) => fenceOf.get(id)!.token ?? null),
    ] as never[],
  );
  const found = new Map(rows.map((r) => [r.id, { cancelRequested: r.cancelRequested }]));
  return leases.map((l) => found.get(l.id) ?? null);
}
