/**
 * Load and bookkeeping for the fault tests, in Jepsen's vocabulary: every job a client got an id for is
 * `accepted`; by the end it must be SUCCEEDED (none `lost`, none `stuck`), and its handler's side effect must
 * have happened exactly once for the succeeding attempt (no `duplicate` effects).
 */
import type postgres from 'postgres';
import { gql, SUBMIT } from '../support/graphql.js';

export interface LoadResult {
  /** idempotency key → job id, for every submit the API accepted. */
  accepted: Map<string, string>;
  /** Submit calls that failed and were retried (network errors, SERVICE_UNAVAILABLE). */
  retries: number;
  /** Error codes/messages seen on failed calls. */
  errors: Map<string, number>;
}

/**
 * Submits `count` `test.effect` jobs with `concurrency` calls in flight, each with idempotency key `k<i>`;
 * a failed call is retried with the same key (on the next URL, if several) until `deadlineMs`.
 */
export async function submitLoad(o: {
  urls: () => string[];
  count: number;
  concurrency: number;
  deadlineMs?: number;
  onSubmitted?: (n: number) => void;
  payload?: (i: number) => Record<string, unknown>;
}): Promise<LoadResult> {
  const accepted = new Map<string, string>();
  const errors = new Map<string, number>();
  let retries = 0;
  let next = 0;
  const deadline = Date.now() + (o.deadlineMs ?? 300_000);
  const note = (what: string) => errors.set(what, (errors.get(what) ?? 0) + 1);

  async function one(i: number): Promise<void> {
    const key = `k${i}`;
    for (let attempt = 0; Date.now() < deadline; attempt++) {
      const urls = o.urls();
      const url = urls[(i + attempt) % urls.length]!;
      try {
        const r = await gql(url, SUBMIT, { input: { type: 'test.effect', payload: o.payload?.(i) ?? { ms: 0 }, idempotencyKey: key } });
        const job = r.body.data?.submitJob?.job;
        if (job) {
          accepted.set(key, job.id);
          o.onSubmitted?.(accepted.size);
          return;
        }
        note(r.body.errors?.[0]?.extensions?.code ?? `HTTP ${r.status}`);
      } catch (e) {
        note((e as Error).cause ? String(((e as Error).cause as { code?: string }).code ?? 'network') : 'network');
      }
      retries++;
      await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** attempt, 1000)));
    }
    throw new Error(`submit ${key} kept failing until the deadline`);
  }

  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < o.count) await one(next++);
    }),
  );
  return { accepted, retries, errors };
}

/** Waits until the jobs table holds at least `n` rows: the moment a fault test brings its fault on. */
export async function untilJobs(sql: postgres.Sql, n: number): Promise<void> {
  while ((await sql`select count(*)::int as n from jobs`)[0]!.n < n) await new Promise((r) => setTimeout(r, 50));
}

export interface Verdict {
  accepted: number;
  succeeded: number;
  lost: number;
  stuck: number;
  duplicateEffects: number;
  missingEffects: number;
  redeliveries: number;
  /** ms from `since` until the last job succeeded. */
  recoveryMs: number;
}

/** Waits (up to `timeoutMs`) for every accepted job to succeed, then counts. */
export async function verify(sql: postgres.Sql, load: LoadResult, o: { timeoutMs: number; since: number }): Promise<Verdict> {
  const ids = [...load.accepted.values()];
  const deadline = Date.now() + o.timeoutMs;
  let rows: { id: string; state: string; attempts: number; finishedAt: Date | null }[] = [];
  for (;;) {
    rows = await sql`select id, state, attempts, finished_at as "finishedAt" from jobs where id = any(${ids}::uuid[])`;
    if (rows.length === ids.length && rows.every((r) => r.state === 'SUCCEEDED')) break;
    if (Date.now() > deadline) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  const effects = await sql<{ jobId: string; attempt: number; n: number }[]>`
    select job_id as "jobId", attempt, count(*)::int as n from fault_effects where job_id = any(${ids}::uuid[])
    group by job_id, attempt`;
  const byJob = new Map(rows.map((r) => [r.id, r]));
  const effectAt = new Map(effects.map((e) => [`${e.jobId}:${e.attempt}`, e.n]));
  const succeeded = rows.filter((r) => r.state === 'SUCCEEDED');
  const lastFinish = Math.max(0, ...succeeded.map((r) => r.finishedAt?.getTime() ?? 0));
  return {
    accepted: ids.length,
    succeeded: succeeded.length,
    lost: ids.filter((id) => !byJob.has(id)).length,
    stuck: rows.filter((r) => r.state !== 'SUCCEEDED').length,
    duplicateEffects: effects.filter((e) => e.n > 1).length,
    missingEffects: succeeded.filter((r) => effectAt.get(`${r.id}:${r.attempts}`) !== 1).length,
    redeliveries: rows.reduce((s, r) => s + Math.max(0, r.attempts - 1), 0),
    recoveryMs: Math.max(0, lastFinish - o.since),
  };
}

/** One line for the test output. */
export function report(name: string, v: Verdict, load: LoadResult): void {
  const errs = [...load.errors].map(([k, n]) => `${k}×${n}`).join(' ') || 'none';
  console.log(
    `[fault:${name}] submitted=${v.accepted} succeeded=${v.succeeded} lost=${v.lost} stuck=${v.stuck} ` +
      `duplicate_effects=${v.duplicateEffects} missing_effects=${v.missingEffects} redeliveries=${v.redeliveries} ` +
      `submit_retries=${load.retries} (${errs}) recovery_ms=${v.recoveryMs}`,
  );
}

/** The assertions every fault test makes. */
export function expectNothingLost(v: Verdict, expected: number, expect: (x: unknown) => any): void {
  expect(v.accepted).toBe(expected);
  expect(v.lost).toBe(0);
  expect(v.stuck).toBe(0);
  expect(v.succeeded).toBe(expected);
  expect(v.duplicateEffects).toBe(0);
  expect(v.missingEffects).toBe(0);
}
