/**
 * The worker pool: pulls each job type's messages from its durable consumer (as many as it has free slots,
 * plus a local queue while slots turn over fast; none while the type is paused, pauses.ts; for a rate-limited
 * type no more than it has tokens for, rate-limit.ts), claims the job
 * with a guarded transition, runs the handler (`attempt.ts`) with in-progress acks, writes the outcome to
 * PostgreSQL, and only then acks / naks / terms the message (`settle.ts`; successes are written in batches
 * here).
 */
import { randomUUID } from 'node:crypto';
import type { JsMsg } from '@nats-io/jetstream';
import type { Sql } from '../src/db/client.js';
import { getJob } from '../src/db/jobs.js';
import { markSucceededMany, type Success } from '../src/db/transitions.js';
import { recordProgressMany, type ProgressWrite } from '../src/db/attempts.js';
import { groupCommit } from '../src/db/group-commit.js';
import { orAfter } from '../src/deadline.js';
import { isDataError } from '../src/errors.js';
import { classifyOutcome } from '../src/jobs/outcome.js';
import type { Logger } from '../src/log.js';
import type { Nats } from '../src/messaging/connect.js';
import type { DeadLetterDeps } from '../src/messaging/dead-letters.js';
import { jobMessageSchema, parseMessage } from '../src/messaging/messages.js';
import type { Names } from '../src/messaging/names.js';
import type { Grant } from '../src/db/rate-limits.js';
import type { RateLimit } from '../src/jobs/definition.js';
import { handBack, PULL_EXPIRES_MS, pullMessages, untilPullEnd, type Pull } from '../src/messaging/pull.js';
import { publishUpdate, updateFromJob } from '../src/progress/updates.js';
import type { BoundHandler } from './handler.js';
import { Attempt, type AttemptDeps } from './attempt.js';
import { createClaims } from './claims.js';
import { createPersister } from './persist.js';
import { holdJobs } from './held-jobs.js';
import { watchPauses } from './pauses.js';
import { createLimiter, type Limiter } from './rate-limit.js';
import { createSettler } from './settle.js';
import { inRunSpan } from './observe.js';
import { Slots, Turnover } from './slots.js';
import type { Context as TraceContext } from '@opentelemetry/api';

export interface WorkerOptions {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
  /** With the jobs of its type this process runs at once (`concurrency`: its slots). */
  handlers: readonly (BoundHandler & { concurrency: number })[];
  /**
   * Claimed jobs of each type that may wait for a free slot (the local queue), as a multiple of its
   * `concurrency`; 0 claims a job only for a free slot.
   */
  claimAhead: number;
  ackWaitMs: number;
  /** Minimum gap between progress writes to PostgreSQL per job. */
  progressDbIntervalMs: number;
}

export interface WorkerPool {
  /** Each job type's slots: handlers of it run at once at most. */
  readonly concurrency: Readonly<Record<string, number>>;
  /** The rate limit of each rate-limited type (`defineJobType`'s `rateLimit`), across all worker processes. */
  readonly rateLimits: Readonly<Record<string, RateLimit>>;
  /** Jobs this pool holds now: running their handler, or writing the outcome of one that just finished. */
  readonly running: number;
  /** Jobs claimed and waiting in the local queue for a free slot. */
  readonly queued: number;
  /**
   * Graceful stop: no new pulls. The one out is not withdrawn: it ends when the server has ended it (its 408 or
   * the last message asked for, or the round trip sent once its PULL_EXPIRES_MS are up: later than that on a
   * slow link), what it brings handed back; the stop waits for it PULL_EXPIRES_MS + 5 s at most. Jobs waiting in
   * the local queue are handed back at once, running jobs get `graceMs` to finish, then are aborted and handed
   * back (QUEUED, message nak'ed for redelivery once the pull out has ended: `handBack`). Those writes get
   * STOP_WRITE_WAIT_MS more: with PostgreSQL unreachable the stop gives them up and returns, and such jobs come
   * back to a worker once their lease and AckWait run out.
   */
  stop(graceMs: number): Promise<void>;
}

/** One job type's pull loop: its handler, its slots, and the messages it holds. */
interface Loop {
  bound: BoundHandler;
  slots: Slots;
  turnover: Turnover;
  /** Messages fetched whose handler has not returned yet (claiming, queued locally, or running). */
  inUse: number;
  /** Wakes the loop waiting for messages to be given back. */
  wake: (() => void) | null;
  /** Its last pull request (null before the first): hand-backs wait until it has ended (`handBack`). */
  pull: Pull | null;
}

/** A delivery's hold on its loop: given back once, when its handler returns (or it is settled without). */
interface Hold {
  loop: Loop;
  released: boolean;
}

/**
 * The local queue: a job is claimed ahead of a free slot only if, at the recent rate, a slot is expected
 * within this long (so claimed jobs rarely wait, and never while handlers are slow or idle), and at most
 * `claimAhead` × concurrency of them per job type.
 */
const CLAIM_AHEAD_HORIZON_MS = 50;

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * How long a stop waits, after the grace period, for the hand-back and outcome writes of its jobs. They take
 * milliseconds; only an unreachable PostgreSQL makes them wait longer, and retrying them for ever would keep
 * the stopping process alive for ever.
 */
const STOP_WRITE_WAIT_MS = 5000;

export async function startWorkers(o: WorkerOptions): Promise<WorkerPool> {
  const { sql, nats, names, log } = o;
  const dl: DeadLetterDeps = { sql, nats, names, log };
  /** Deliveries being handled: from the fetch to the settled message. */
  let handling = 0;
  const leaseMs = o.ackWaitMs;
  let stopping = false;
  /** Every job type's pull loop (each waits on its own `wake`). */
  const pulls: Loop[] = [];
  const loops: Promise<void>[] = [];

  const { persist, abandon: abandonWrites } = createPersister(log);
  // Claims (claims.ts) and successes are written in batches: every claim (success) that comes while one is
  // being written goes into the next statement, so a busy worker commits once per batch, not once per job;
  // and the calls of one burst (a fetch's messages, the handlers they ran) wait for each other (`gather`).
  // Each batch's updates (and a success batch's acks) go out together, after its commit: one NATS write.
  // A completion batch the database refuses for a value in one of its rows (a data exception) is written
  // again job by job (`alone`): that job's write fails, not its neighbours'. Results are checked before
  // (Attempt), so this is the last line.
  const claimJob = createClaims({ sql, nats, names, persist });
  const succeed = groupCommit(
    async (ds: (Success & { msg: JsMsg })[]) => {
      const jobs = await markSucceededMany(sql, ds);
      jobs.forEach((job, i) => {
        if (!job) return; // superseded: the attempt's new holder settles the message
        publishUpdate(nats.nc, names, updateFromJob(job));
        ds[i]!.msg.ack();
      });
      return jobs;
    },
    { maxSize: 500, gather: true, alone: isDataError },
  );

  const held = holdJobs({ sql, nats, names, log, ackWaitMs: o.ackWaitMs, leaseMs, types: o.handlers.map((h) => h.type.name) });
  // A pause or resume wakes every loop: a paused one goes back to waiting, a resumed one pulls again. The
  // paused types' jobs waiting in the local queue are handed back unstarted; running ones go on.
  const pauses = await watchPauses({
    sql,
    nats,
    names,
    log,
    onChange: (isPaused) => {
      pulls.forEach(wake);
      for (const a of held.attempts.values()) if (!a.started && isPaused(a.job.type)) a.abort('paused');
    },
  });

  // Progress milestones fall due on a shared grid (Attempt), so those of one tick go as one statement.
  const recordProgress = groupCommit((ws: ProgressWrite[]) => recordProgressMany(sql, ws), {
    maxSize: 500,
    gather: true,
    alone: isDataError,
  });
  const attemptDeps: AttemptDeps = { nats, names, log, leaseMs, progressDbIntervalMs: o.progressDbIntervalMs, recordProgress, persist };
  const settle = createSettler({ ...dl, persist, succeed });

  /**
   * Runs one delivery: claims the job, runs its attempt (which waits for one of the loop's slots if none is
   * free: the local queue), writes the outcome. The hold on the loop is given back as soon as the handler
   * is done, so the next job starts while this one's outcome is written (the message stays unacked until
   * that write lands).
   */
  async function handle(m: JsMsg, trace: TraceContext | null, hold: Hold): Promise<void> {
    const { bound, slots } = hold.loop;
    const msg = parseMessage(jobMessageSchema, m.data);
    if (!msg) {
      log.warn({ subject: m.subject, seq: m.seq }, 'malformed job message; acked and dropped');
      return m.ack();
    }
    // Fetched as the stop began, or its type paused since the pull went out: not claimed, handed back once
    // this pull has ended (for another worker, or for a worker pulling the type again after a resume).
    if (stopping || pauses.has(bound.type.name)) return handBack(m, hold.loop.pull);
    const token = randomUUID();
    const { job, cancelled } = await held.claim(msg.id, m, () => claimJob({ id: msg.id, series: msg.series, leaseMs, msgSeq: m.seq, token }));
    if (!job) return held.keep(m, async () => settle.resolveUnclaimed(m, msg, await persist('read', () => getJob(sql, msg.id))));
    const attempt = new Attempt(job, m, attemptDeps, token);
    held.hold(attempt);
    try {
      // Asked while the claim was on its way (or, for a claim found again by its token, before that).
      if (cancelled || job.cancelRequested) attempt.abort('cancelled');
      else if (stopping) attempt.abort('shutdown'); // claimed after stop began: handed back without running
      else if (pauses.has(bound.type.name)) attempt.abort('paused'); // paused while the claim was on its way
      const end = await attempt.run(bound, trace, slots);
      release(hold, attempt.started);
      await attempt.writing;
      if (attempt.abortReason === 'lost') {
        attempt.log.warn('the job is no longer this worker’s (lease lost); leaving the message to its new holder');
        return;
      }
      const outcome = classifyOutcome(end, job.attempts, job.maxAttempts, bound.type.backoff, untilPullEnd(hold.loop.pull));
      await settle.finish(attempt, outcome);
    } finally {
      held.release(attempt);
    }
  }

  /** Gives a delivery's hold back; `ran`: its handler ran, so a slot turned over (sizing the local queue). */
  function release(hold: Hold, ran: boolean): void {
    if (hold.released) return;
    hold.released = true;
    hold.loop.inUse--;
    if (ran) hold.loop.turnover.note();
    wake(hold.loop);
  }

  function wake(loop: Loop): void {
    const w = loop.wake;
    loop.wake = null;
    w?.();
  }

  /** Handles one delivery to its end; nothing it throws escapes (the message is then redelivered). */
  async function deliver(m: JsMsg, loop: Loop): Promise<void> {
    const hold: Hold = { loop, released: false };
    try {
      await inRunSpan(m, loop.bound.type.name, (trace) => handle(m, trace, hold));
    } catch (e) {
      log.error({ err: e, subject: m.subject }, 'job handling failed; the message will be redelivered');
    } finally {
      release(hold, false); // no-op if the handler's return released it
      handling--;
    }
  }

  /** Sleeps `ms`, or less when the loop is stopping or its type paused (woken as it is then). */
  async function sleepWoken(loop: Loop, ms: number): Promise<void> {
    const until = Date.now() + ms;
    while (!stopping && !pauses.has(loop.bound.type.name) && Date.now() < until) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((r) => {
        loop.wake = r;
        timer = setTimeout(r, until - Date.now());
      });
      clearTimeout(timer);
    }
  }

  /** A rate-limited type's tokens for its loop (rate-limit.ts); null for a type without `rateLimit`. */
  function limiterFor(loop: Loop): Limiter | null {
    const { name: type, rateLimit } = loop.bound.type;
    if (!rateLimit) return null;
    const halted = () => stopping || pauses.has(type);
    return createLimiter({ sql, log, type, rateLimit, halted, stopping: () => stopping, sleep: (ms) => sleepWoken(loop, ms) });
  }

  /** One pull request for up to `n` of the loop's messages, each delivered as it comes: how many came, and how it failed. */
  async function pullOnce(loop: Loop, n: number): Promise<{ brought: number; failure: { err: unknown } | null }> {
    let brought = 0;
    try {
      // Not closed by a stop: it ends when the server has (its 408 or the last message asked for, or the
      // round trip once its PULL_EXPIRES_MS are up: `pullMessages`), what it brings then handed back.
      loop.pull = pullMessages(nats.nc, names.jobsStream, names.workerConsumer(loop.bound.type.name), n);
      for await (const m of loop.pull.messages) {
        brought++;
        loop.inUse++;
        handling++;
        void deliver(m, loop);
      }
      return { brought, failure: null };
    } catch (e) {
      return { brought, failure: { err: e } };
    }
  }

  async function pull(bound: BoundHandler & { concurrency: number }): Promise<void> {
    const { concurrency } = bound;
    const loop: Loop = { bound, slots: new Slots(concurrency), turnover: new Turnover(CLAIM_AHEAD_HORIZON_MS), inUse: 0, wake: null, pull: null };
    pulls.push(loop);
    const maxAhead = o.claimAhead * concurrency;
    const limiter = limiterFor(loop);
    /**
     * The last pull brought nothing: the next asks for one token only, as a pull waiting for messages holds
     * its tokens for up to PULL_EXPIRES_MS, which other workers could use meanwhile.
     */
    let idle = true;
    while (!stopping) {
      if (pauses.has(bound.type.name)) {
        await new Promise<void>((r) => (loop.wake = r));
        continue;
      }
      // Hold the running jobs plus the local queue: the jobs the slots should start within the horizon
      // at the recent turnover (none while handlers are slow or idle). Pull again once half of that is
      // free (or all is): under load one pull request per many jobs, whose claims go out as one batch.
      const limit = concurrency + Math.min(maxAhead, loop.turnover.expected());
      const free = limit - loop.inUse;
      if (free < Math.ceil(limit / 2) && loop.inUse > 0) {
        await new Promise<void>((r) => (loop.wake = r));
        continue;
      }
      // A rate-limited type pulls only as many as it got tokens for (none: `take` waited until one freed, or
      // the loop was stopped or paused meanwhile); the tokens the pull did not use are given back after it.
      let grant: Grant | null = null;
      if (limiter) {
        grant = await limiter.take(idle ? 1 : free);
        if (!grant) continue;
      }
      const { brought, failure } = await pullOnce(loop, grant?.granted ?? free);
      if (grant) await limiter!.settle(grant, brought);
      idle = brought === 0;
      if (failure) {
        if (stopping) break;
        log.warn({ err: failure.err, type: bound.type.name }, 'pull failed (NATS unavailable?); retrying');
        nats.repairIfMissing(failure.err); // its consumer or stream gone: made again
        await pause(1000);
      }
    }
  }

  for (const h of o.handlers) loops.push(pull(h));

  return {
    concurrency: Object.fromEntries(o.handlers.map((h) => [h.type.name, h.concurrency])),
    rateLimits: Object.fromEntries(o.handlers.flatMap((h) => (h.type.rateLimit ? [[h.type.name, h.type.rateLimit]] : []))),
    get running() {
      let n = 0;
      for (const h of held.attempts.values()) if (h.started) n++;
      return n;
    },
    get queued() {
      let n = 0;
      for (const h of held.attempts.values()) if (!h.started) n++;
      return n;
    },
    async stop(graceMs) {
      stopping = true;
      for (const loop of pulls) wake(loop);
      // Jobs in the local queue never started: hand them back now (a claim still in flight does so
      // when it lands). Running ones get the grace period.
      for (const h of held.attempts.values()) if (!h.started) h.abort('shutdown');
      const deadline = Date.now() + graceMs;
      // The pulls out end when the server has ended them (PULL_EXPIRES_MS after it had them, and the round
      // trip that tells: later on a slow link); what they bring meanwhile is handed back as it comes. Waited for
      // PULL_EXPIRES_MS + 5 s at most.
      await orAfter(Promise.allSettled(loops), PULL_EXPIRES_MS + 5000, undefined); // its timer cleared if they end first
      while (handling && Date.now() < deadline) await pause(50);
      for (const h of held.attempts.values()) h.abort('shutdown');
      const writeDeadline = Date.now() + STOP_WRITE_WAIT_MS;
      while (handling && Date.now() < writeDeadline) await pause(20);
      if (handling) {
        // Not handed back: their messages stay unacked and their rows RUNNING under this worker's lease,
        // so another worker claims them once the lease and AckWait have run out (an attempt used).
        abandonWrites();
        log.warn({ jobs: [...held.attempts.keys()] }, 'stopping without writing the outcome or hand-back of these jobs (PostgreSQL unreachable); they are redelivered after AckWait');
      }
      held.close();
      pauses.close();
    },
  };
}
