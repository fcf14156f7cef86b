/**
 * Latency figures: (5) pickup — the submit call to the handler's start, 500 jobs at 200/s open loop; and
 * (6) progress — `ctx.progress()` in the handler to the graphql-ws subscriber's receipt.
 * Handler-side times come from the worker's clock (bench/jobs.ts); both processes run on this machine, so
 * `performance.timeOrigin + performance.now()` is comparable across them. The residual offset is measured
 * over IPC (NTP-style, smallest round trip of 15 pings) and removed; it is reported as `clock_offset_ms`.
 */
import { connected, PROGRESS, submitJob, wsClient, type Subscriber } from '../client.js';
import { fmt, freshWorker, markCpu, perJob, type Figure, type PhaseContext } from '../figure.js';
import { markJob, now, progressJob } from '../jobs.js';
import { markDb } from '../pgstats.js';
import { sleepMs, summarize } from '../stats.js';
import { checkExactlyOnce, waitSucceeded } from '../verify.js';

/** (5) Pickup latency with an idle worker, open-loop submits at `trickleRate`. */
export async function pickup(ctx: PhaseContext): Promise<Figure> {
  const { stack, o } = ctx;
  const { w, ...clock } = await freshWorker(ctx);
  await sleepMs(500);
  const gap = 1000 / o.trickleRate;
  for (let k = 0; k < o.warmup; k++) {
    await submitJob(stack.url, markJob.name, { warm: true });
    await sleepMs(gap);
  }
  await waitSucceeded(stack.sql, markJob.name, o.warmup, o.timeoutMs);
  ctx.log(`pickup: ${o.trickleN} ${markJob.name} jobs at ${o.trickleRate}/s (after ${o.warmup} warm-up)`);
  const sentAt = new Map<string, number>();
  const callMs: number[] = [];
  const calls: Promise<void>[] = [];
  const failures: unknown[] = [];
  let late = 0;
  // At this rate nothing batches: every job pays each hop's fixed costs, and the CPU they take from the two
  // cores is what the latency waits for.
  const db = await markDb(stack.sql, stack.pgStatements);
  const cpu = markCpu(ctx, () => [w]);
  const start = now() + 5;
  for (let k = 0; k < o.trickleN; k++) {
    const due = start + k * gap;
    // A timer, not a spin on the last millisecond: at 200/s a spin took a tenth of the machine from what
    // is measured. Latency counts from the actual send (`t`), so a timer's lateness does not add to it.
    const d = due - now();
    if (d > 0) await sleepMs(d);
    if (now() - due > 5) late++;
    const t = now();
    // A failed submit is counted here, not left to reject unawaited while the loop sleeps (which ended the
    // load generator as an unhandled rejection); the part then fails with it.
    calls.push(
      submitJob(stack.url, markJob.name, { i: k }).then(
        (id) => {
          sentAt.set(id, t);
          callMs.push(now() - t);
        },
        (e: unknown) => void failures.push(e),
      ),
    );
  }
  await Promise.all(calls);
  if (failures.length) throw new Error(`${failures.length} of ${o.trickleN} submits failed; the first: ${String(failures[0])}`);
  await waitSucceeded(stack.sql, markJob.name, o.warmup + o.trickleN, o.timeoutMs);
  const used = cpu.end();
  const once = await checkExactlyOnce(stack.sql, markJob.name, o.warmup + o.trickleN);
  await w.stop();
  const pg = await db.read(o.trickleN);
  // `claimed`: the claim statement's start (PostgreSQL's clock, the same system clock as ours).
  const rows = await stack.sql<{ id: string; t: number; claimed: number }[]>`
    select id, (result->>'t')::float8 as t, extract(epoch from started_at)::float8 * 1000 as claimed
    from jobs where type = ${markJob.name} and id = any(${[...sentAt.keys()]}::uuid[])`;
  if (rows.length !== o.trickleN) throw new Error(`pickup: ${rows.length} results for ${o.trickleN} jobs`);
  const lat = summarize(rows.map((r) => r.t - clock.offsetMs - sentAt.get(r.id)!));
  return {
    figure: 'pickup_latency',
    label: `pickup latency p50 / p99 (${o.trickleRate}/s)`,
    value: `${fmt(lat.p50, 1)} / ${fmt(lat.p99, 1)} ms`,
    detail: {
      submit_to_handler_start_ms: lat,
      submit_call_ms: summarize(callMs),
      // Where the time goes: submit call → claim statement start (commit, answer, publish, delivery) and
      // claim statement start → handler start (the claim's statement and commit).
      submit_to_claim_ms: summarize(rows.map((r) => r.claimed - sentAt.get(r.id)!)),
      claim_to_handler_ms: summarize(rows.map((r) => r.t - clock.offsetMs - r.claimed)),
      late_submissions: late,
      clock_offset_ms: Math.round(clock.offsetMs * 1000) / 1000,
      clock_rtt_ms: Math.round(clock.rttMs * 1000) / 1000,
      ...once,
      ...perJob(used, o.trickleN),
      pg,
    },
  };
}

/** Progress message `t=<ms>` → send time on the worker's clock, or null for other updates. */
export function sentTime(message: string | null | undefined): number | null {
  return message?.startsWith('t=') ? Number(message.slice(2)) : null;
}

interface Update {
  jobProgress: { seq: number; state: string; progress: number; message: string | null };
}

/** What one `jobProgress` subscriber saw: its progress reports, and the last one's progress. */
export interface Followed {
  reports: number;
  lastProgress: number | null;
}

/**
 * Subscribes to `jobProgress(id)`; calls `onLatency` per live progress report; resolves on completion.
 * Rejects when seqs do not increase or the stream does not end with SUCCEEDED, or its last progress report
 * is not the job's last (100 %): reports may be coalesced (latest wins), state changes may not.
 */
export function follow(client: Subscriber, id: string, offsetMs: number, onLatency: (ms: number) => void, onFirst?: () => void): Promise<Followed> {
  let first = true;
  let last: Update['jobProgress'] | null = null;
  const seen: Followed = { reports: 0, lastProgress: null };
  return new Promise((resolve, reject) => {
    client.subscribe<Update>(
      { query: PROGRESS, variables: { id } },
      {
        next: (r) => {
          const u = r.data?.jobProgress;
          if (!u) return reject(new Error(`jobProgress ${id}: ${JSON.stringify(r)}`));
          if (last && u.seq <= last.seq) reject(new Error(`jobProgress ${id}: seq ${u.seq} after ${last.seq}`));
          last = u;
          // Terminal updates repeat the last progress message: only RUNNING updates are progress reports.
          const t = u.state === 'RUNNING' ? sentTime(u.message) : null;
          if (t !== null) {
            onLatency(now() - (t - offsetMs));
            seen.reports++;
            seen.lastProgress = u.progress;
          }
          if (first) {
            first = false;
            onFirst?.();
          }
        },
        error: (e) => reject(e instanceof Error ? e : new Error(JSON.stringify(e))),
        complete: () => {
          if (last?.state !== 'SUCCEEDED') reject(new Error(`jobProgress ${id} ended in ${last?.state ?? 'nothing'}`));
          else if (seen.lastProgress !== 100) reject(new Error(`jobProgress ${id}: last progress report ${seen.lastProgress}, not 100`));
          else resolve(seen);
        },
      },
    );
  });
}

/** One unlabelled sample of the API's `GET /metrics` (0 when absent). */
export async function apiMetric(graphqlUrl: string, name: string): Promise<number> {
  const text = await (await fetch(graphqlUrl.replace(/\/graphql$/, '/metrics'))).text();
  return Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1] ?? 0);
}

/** The API's count of progress reports coalesced away (latest wins). */
export const coalescedSoFar = (graphqlUrl: string) => apiMetric(graphqlUrl, 'longrun_progress_coalesced_total');

/** Checks that every report was either received or coalesced by the API; returns the coalesced count. */
export function accountFor(expected: number, received: number, coalesced: number): number {
  if (received + coalesced !== expected) throw new Error(`received ${received} + coalesced ${coalesced} reports, expected ${expected}`);
  return coalesced;
}

/** (6) `progressJobs` jobs each report `progressUpdates` times every `progressIntervalMs`; one subscriber each. */
export async function progress(ctx: PhaseContext): Promise<Figure> {
  const { stack, o } = ctx;
  const { w, ...clock } = await freshWorker(ctx);
  const client = wsClient(stack.wsUrl);
  await connected(client);
  ctx.log(`progress: ${o.progressJobs} jobs × ${o.progressUpdates} updates every ${o.progressIntervalMs} ms`);
  const lat: number[] = [];
  const done: Promise<Followed>[] = [];
  const coalesced0 = await coalescedSoFar(stack.url);
  for (let k = 0; k < o.progressJobs; k++) {
    const id = await submitJob(stack.url, progressJob.name, { updates: o.progressUpdates, intervalMs: o.progressIntervalMs, delayMs: 1000 });
    done.push(follow(client, id, clock.offsetMs, (ms) => lat.push(ms)));
  }
  await Promise.all(done);
  await client.dispose();
  await waitSucceeded(stack.sql, progressJob.name, o.progressJobs, o.timeoutMs);
  const once = await checkExactlyOnce(stack.sql, progressJob.name, o.progressJobs);
  await w.stop();
  const expected = o.progressJobs * o.progressUpdates;
  const coalesced = accountFor(expected, lat.length, (await coalescedSoFar(stack.url)) - coalesced0);
  const s = summarize(lat);
  return {
    figure: 'progress_latency',
    label: 'progress latency p50 / p99',
    value: `${fmt(s.p50, 1)} / ${fmt(s.p99, 1)} ms`,
    detail: { progress_to_subscriber_ms: s, expected, coalesced, clock_offset_ms: Math.round(clock.offsetMs * 1000) / 1000, ...once },
  };
}
