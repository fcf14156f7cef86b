/**
 * `test.effect`: a job whose handler has a side effect the fault tests can count: it inserts
 * (job id, attempt, pid) into `fault_effects` before it finishes. "Exactly once per successful attempt"
 * means one row for each job's succeeding attempt, and no (job, attempt) twice.
 */
import postgres from 'postgres';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler, sleep } from '../../workers/handler.js';
import { isDatabaseUnavailable } from '../../src/errors.js';

export const effectJob = defineJobType({
  name: 'test.effect',
  description: 'records a side effect',
  // `block`: milliseconds the handler keeps its process's event loop busy (synchronously) before anything else.
  payload: z.object({ ms: z.number().int().min(0).default(0), n: z.number().int().optional(), block: z.number().int().min(0).max(10_000).default(0) }),
  maxAttempts: 20,
  backoff: { baseMs: 100, maxMs: 1000 },
});

/** `test.poison`: a type no worker handles, with a small max-deliver (the dead-letter advisory tests). */
export const poisonJob = defineJobType({
  name: 'test.poison',
  description: 'never handled',
  payload: z.object({}),
  maxAttempts: 3,
  maxDeliver: 3,
});

let sql: postgres.Sql | null = null;

export const EFFECTS_TABLE = `create table if not exists fault_effects (
  job_id uuid not null, attempt int not null, pid int not null, at timestamptz not null default now())`;

export const effectHandler = defineHandler(effectJob, async ({ ms, block }, ctx) => {
  for (const end = Date.now() + block; Date.now() < end; ); // a handler's synchronous work: nothing else runs
  if (ms) await sleep(ms, ctx.signal);
  // In a worker process the database is DATABASE_URL; a test running workers in-process sets EFFECTS_DATABASE_URL.
  sql ??= postgres(process.env.EFFECTS_DATABASE_URL ?? process.env.DATABASE_URL!, { max: 2, onnotice: () => {} });
  for (let delay = 100; ; delay = Math.min(delay * 2, 2000)) {
    try {
      await sql`insert into fault_effects (job_id, attempt, pid) values (${ctx.jobId}, ${ctx.attempt}, ${process.pid})`;
      break;
    } catch (e) {
      if (ctx.signal.aborted || !isDatabaseUnavailable(e)) throw e;
      await sleep(delay, ctx.signal); // PostgreSQL restarting
    }
  }
  return { attempt: ctx.attempt };
});

/**
 * A job type `name` whose first attempt fails ("downstream unavailable") and whose retry, due `retryMs` later
 * (no jitter), succeeds; with its handler.
 */
export function failsFirstAttempt(name: string, retryMs: number) {
  const type = defineJobType({
    name,
    description: `fails its first attempt; the retry is due ${retryMs} ms later`,
    payload: z.object({}),
    maxAttempts: 3,
    backoff: { baseMs: retryMs, maxMs: retryMs, jitter: 0 },
  });
  const handler = defineHandler(type, async (_, ctx) => {
    if (ctx.attempt === 1) throw new Error('downstream unavailable');
    return { ok: true };
  });
  return { type, handler };
}
