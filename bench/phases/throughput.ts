/**
 * Throughput figures: (1) submit 1-by-1, (2) bulk submit, (3) drain a backlog, (4) end to end, and the CPU
 * per job of each (for (1) and (2): from the first submit until every job's message is published). Every figure is reported only after the exactly-once checks in verify.ts pass.
 */
import { createClient } from '../../sdk/index.js';
import { findBulkApi, submitBulk, submitJob } from '../client.js';
import { fmt, freshWorker, markCpu, perJob, type Figure, type PhaseContext } from '../figure.js';
import { now } from '../jobs.js';
import { markDb } from '../pgstats.js';
import { inParallel } from '../stats.js';
import { checkExactlyOnce, checkSubmitted, resetJobs, runSpan, waitPublished, waitSucceeded } from '../verify.js';

const NOOP = 'demo.noop';

/** (1) N `submitJob` mutations, `inFlight` at a time, into an idle system (no worker). Leaves the backlog. */
export async function submitOneByOne(ctx: PhaseContext): Promise<Figure> {
  const { stack, o } = ctx;
  await resetJobs(stack, o);
  const db = await markDb(stack.sql, stack.pgStatements);
  ctx.log(`submit 1-by-1: ${o.n} submitJob mutations, ${o.inFlight} in flight`);
  const ids: string[] = new Array(o.n);
  const cpu = markCpu(ctx, () => []);
  const t0 = now();
  await inParallel(o.n, o.inFlight, async (i) => {
    ids[i] = await submitJob(stack.url, NOOP, { i });
  });
  const ms = now() - t0;
  await checkSubmitted(stack.sql, NOOP, ids);
  const tPub = now();
  await waitPublished(stack.sql, stack.jsm, o.prefix, NOOP, o.n, o.timeoutMs);
  const used = cpu.end();
  const pg = await db.read(o.n);
  const rate = o.n / (ms / 1000);
  return {
    figure: 'submit_1by1',
    label: `submit 1-by-1 (${o.inFlight} in flight)`,
    value: `${fmt(rate)} jobs/s`,
    detail: { n: o.n, in_flight: o.inFlight, ms: Math.round(ms), jobs_per_s: Math.round(rate), publish_lag_after_last_submit_ms: Math.round(now() - tPub), ...perJob(used, o.n), pg },
  };
}

/** (3) One worker process at concurrency C drains the backlog (1) left: first claim → N-th SUCCEEDED. */
export async function drain(ctx: PhaseContext): Promise<Figure> {
  const { stack, o } = ctx;
  ctx.log(`drain: ${o.n} queued ${NOOP} jobs, one worker at concurrency ${o.concurrency}`);
  const w = await stack.startWorker();
  const db = await markDb(stack.sql, stack.pgStatements);
  const cpu = markCpu(ctx, () => [w]);
  const t0 = now();
  w.send({ type: 'start' });
  await waitSucceeded(stack.sql, NOOP, o.n, o.timeoutMs);
  const used = cpu.end();
  const wall = now() - t0;
  const once = await checkExactlyOnce(stack.sql, NOOP, o.n);
  const span = await runSpan(stack.sql, NOOP);
  await w.stop();
  const pg = await db.read(o.n);
  const ms = span.lastFinish - span.firstStart;
  const rate = o.n / (ms / 1000);
  const cpuPerJob = perJob(used, o.n);
  return {
    figure: 'drain',
    label: `drain backlog (1 worker, C=${o.concurrency})`,
    value: `${fmt(rate)} jobs/s`,
    detail: { n: o.n, concurrency: o.concurrency, ms: Math.round(ms), jobs_per_s: Math.round(rate), wall_from_start_ms: Math.round(wall), ...once, ...cpuPerJob, pg },
  };
}

/** (2) `submitJobs` of `bulkBatch` inputs per mutation, one at a time; n/a when the API has no bulk mutation. */
export async function submitBulkPhase(ctx: PhaseContext): Promise<Figure> {
  const { stack, o } = ctx;
  const api = await findBulkApi(stack.url);
  const label = `submit bulk (${fmt(o.bulkBatch)} per submitJobs)`;
  if (!api) {
    return {
      figure: 'submit_bulk',
      label,
      value: 'n/a',
      detail: { reason: 'the API has no submitJobs mutation on this branch (HTTP query batching is off, so there is no other bulk path)' },
    };
  }
  await resetJobs(stack, o);
  ctx.log(`submit bulk: ${o.n} jobs in submitJobs calls of ${o.bulkBatch}`);
  const ids: string[] = [];
  const cpu = markCpu(ctx, () => []);
  const t0 = now();
  for (let s = 0; s < o.n; s += o.bulkBatch) {
    const inputs = Array.from({ length: Math.min(o.bulkBatch, o.n - s) }, (_, k) => ({ type: NOOP, payload: { i: s + k } }));
    ids.push(...(await submitBulk(stack.url, api, inputs)));
  }
  const ms = now() - t0;
  await checkSubmitted(stack.sql, NOOP, ids);
  await waitPublished(stack.sql, stack.jsm, o.prefix, NOOP, o.n, o.timeoutMs);
  const used = cpu.end();
  await resetJobs(stack, o); // nobody will run these
  const rate = o.n / (ms / 1000);
  return { figure: 'submit_bulk', label, value: `${fmt(rate)} jobs/s`, detail: { n: o.n, batch: o.bulkBatch, ms: Math.round(ms), jobs_per_s: Math.round(rate), ...perJob(used, o.n) } };
}

/**
 * (4) N no-op jobs submitted while one worker runs, `inFlight` callers each submitting one job at a time,
 * from the first submit to the N-th SUCCEEDED. `submit` is one `submitJob` request per job (4), or the
 * SDK's `submitJob`, which sends concurrent calls as one `submitJobs` request (9).
 */
async function endToEndWith(ctx: PhaseContext, submit: (i: number) => Promise<string>, figure: string, label: string): Promise<Figure> {
  const { stack, o } = ctx;
  const { w } = await freshWorker(ctx);
  const db = await markDb(stack.sql, stack.pgStatements);
  ctx.log(`${label}: ${o.n} jobs, ${o.inFlight} callers submitting one at a time while one worker (C=${o.concurrency}) runs`);
  const cpu = markCpu(ctx, () => [w]);
  const ids: string[] = new Array(o.n);
  const t0 = now();
  await inParallel(o.n, o.inFlight, async (i) => {
    ids[i] = await submit(i);
  });
  const submitMs = now() - t0;
  await waitSucceeded(stack.sql, NOOP, o.n, o.timeoutMs);
  const used = cpu.end();
  await checkSubmitted(stack.sql, NOOP, ids);
  const once = await checkExactlyOnce(stack.sql, NOOP, o.n);
  const span = await runSpan(stack.sql, NOOP);
  await w.stop();
  const pg = await db.read(o.n);
  const ms = span.lastFinish - t0;
  const rate = o.n / (ms / 1000);
  return {
    figure,
    label,
    value: `${fmt(rate)} jobs/s`,
    detail: { n: o.n, ms: Math.round(ms), jobs_per_s: Math.round(rate), submit_phase_ms: Math.round(submitMs), submit_jobs_per_s: Math.round(o.n / (submitMs / 1000)), ...once, ...perJob(used, o.n), pg },
  };
}

export const endToEnd = (ctx: PhaseContext): Promise<Figure> =>
  endToEndWith(ctx, (i) => submitJob(ctx.stack.url, NOOP, { i }), 'end_to_end', `end to end (1-by-1 submits, C=${ctx.o.concurrency})`);

export async function endToEndSdk(ctx: PhaseContext): Promise<Figure> {
  const client = createClient({ url: ctx.stack.url });
  try {
    return await endToEndWith(
      ctx,
      async (i) => {
        const r = await client.submitJob({ type: NOOP, payload: { i } });
        if (!r.job) throw new Error(`submitJob refused: ${JSON.stringify(r.userErrors)}`);
        return r.job.id;
      },
      'end_to_end_sdk',
      `end to end, SDK submitJob (batched), C=${ctx.o.concurrency}`,
    );
  } finally {
    await client.close();
  }
}
