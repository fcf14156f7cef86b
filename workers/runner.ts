/**
 * The worker pool: pulls each job type's messages from its durable consumer (only as many as it has free
 * slots), claims the job with a guarded transition, runs the handler with in-progress acks, writes the
 * outcome to PostgreSQL, and only then acks / naks / terms the message.
 */
import type { Consumer, JsMsg } from '@nats-io/jetstream';
import type { Subscription } from '@nats-io/nats-core';
import type { Sql } from '../src/db/client.js';
import {
  getJob,
  markCancelled,
  markFailed,
  markQueuedAgain,
  markRetrying,
  markRunningMany,
  markSucceededMany,
  recordProgress,
  renewLease,
  type Claim,
  type Success,
} from '../src/db/jobs.js';
import { groupCommit } from '../src/db/group-commit.js';
import type { JobRow } from '../src/db/schema.js';
import { isConnectionError, JobTimeoutError, UnreachableCaseError } from '../src/errors.js';
import { classifyOutcome, type AttemptEnd } from '../src/jobs/outcome.js';
import { isTerminal } from '../src/jobs/state.js';
import type { Logger } from '../src/log.js';
import type { Nats } from '../src/messaging/connect.js';
import { copyToDeadLetters, deadLetterJob, type DeadLetterDeps } from '../src/messaging/dead-letters.js';
import { jobMessageSchema, parseMessage, type JobMessage } from '../src/messaging/messages.js';
import type { Names } from '../src/messaging/names.js';
import { publishUpdate, updateFromJob } from '../src/progress/updates.js';
import type { BoundHandler, JobContext } from './handler.js';
import { inAttemptSpan, inRunSpan } from './observe.js';
import { Slots, Turnover, type SlotWait } from './slots.js';
import { traceIdOf } from '../src/observability/tracing.js';
import type { Context as TraceContext } from '@opentelemetry/api';

export interface WorkerOptions {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
  handlers: readonly BoundHandler[];
  /** Jobs of each type this process runs at once. */
  concurrency: number;
  ackWaitMs: number;
  /** Minimum gap between progress writes to PostgreSQL per job. */
  progressDbIntervalMs: number;
}

export interface WorkerPool {
  /** Jobs this pool holds now: running their handler, or writing the outcome of one that just finished. */
  readonly running: number;
  /** Jobs claimed and waiting in the local queue for a free slot. */
  readonly queued: number;
  /**
   * Graceful stop: no new messages; jobs waiting in the local queue are handed back at once, running jobs
   * get `graceMs` to finish, then are aborted and handed back (QUEUED, message nak'ed for immediate
   * redelivery).
   */
  stop(graceMs: number): Promise<void>;
}

type Abort = 'cancelled' | 'timeout' | 'shutdown' | 'lost';

/** A claimed job: waiting in the local queue for a slot (`started` false), running, or writing its outcome. */
interface Held {
  abort(reason: Abort): void;
  started: boolean;
}

/**
 * The local queue: a job is claimed ahead of a free slot only if, at the recent rate, a slot is expected
 * within this long (so claimed jobs rarely wait, and never while handlers are slow or idle) …
 */
const CLAIM_AHEAD_HORIZON_MS = 50;
/** … and at most this many times the concurrency wait per job type. */
const CLAIM_AHEAD_MAX_FACTOR = 3;

export async function startWorkers(o: WorkerOptions): Promise<WorkerPool> {
  const { sql, nats, names, log } = o;
  const dl: DeadLetterDeps = { sql, nats, names, log };
  const held = new Map<string, Held>();
  /** Deliveries being handled: from the fetch to the settled message. */
  let handling = 0;
  const leaseMs = o.ackWaitMs;
  let stopping = false;
  /** Pull loops waiting for a free slot (each wakes its own). */
  const waiting = new Set<() => void>();
  const loops: Promise<void>[] = [];
  const stopFetch = new Set<() => void>();

  // Claims and successes are written in batches: every claim (success) that comes while one is being
  // written goes into the next statement, so a busy worker commits once per batch, not once per job.
  // Each batch's updates (and a success batch's acks) go out together, after its commit: one NATS write.
  const claim = groupCommit(
    async (cs: Claim[]) => {
      const jobs = await markRunningMany(sql, cs);
      for (const job of jobs) if (job) publishUpdate(nats.nc, names, updateFromJob(job));
      return jobs;
    },
    { maxSize: 500 },
  );
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
    { maxSize: 500 },
  );

  const cancelSub: Subscription = nats.nc.subscribe(names.cancelPattern, {
    callback: (_err, msg) => held.get(msg.subject.slice(msg.subject.lastIndexOf('.') + 1))?.abort('cancelled'),
  });

  /** Retries a PostgreSQL write until it goes through: a failed terminal or progress write is never dropped. */
  async function persist<T>(what: string, fn: () => Promise<T>): Promise<T> {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await fn();
      } catch (e) {
        if (!isConnectionError(e)) throw e;
        log.warn({ err: e, what }, 'PostgreSQL unreachable; retrying the write');
        await new Promise((r) => setTimeout(r, delay));
      }
    }
  }

  /** A delivery that could not be claimed: decide what the message deserves. */
  async function resolveUnclaimed(m: JsMsg, msg: JobMessage, job: JobRow | null): Promise<void> {
    if (!job) {
      log.warn({ jobId: msg.id }, 'message for a job with no row; acked and dropped');
      return m.ack();
    }
    if (msg.series !== job.series) return m.ack(); // from an earlier attempt series
    if (job.state === 'FAILED' && job.deadLetteredAt === null) {
      await copyToDeadLetters(dl, job, m); // the worker failing it stopped before the copy
      return m.term();
    }
    if (isTerminal(job.state)) return m.ack(); // duplicate delivery of a finished job
    if (job.cancelRequested && job.state !== 'RUNNING') {
      const done = await markCancelled(sql, { id: job.id });
      if (done) publishUpdate(nats.nc, names, updateFromJob(done));
      return m.ack();
    }
    if (job.state === 'RUNNING' && job.leaseUntil && job.leaseUntil.getTime() > Date.now()) {
      return m.nak(Math.max(100, job.leaseUntil.getTime() - Date.now() + 100)); // another worker holds it
    }
    if (job.attempts >= job.maxAttempts) {
      // Its last attempt's worker died: the attempts are used up.
      await deadLetterJob(dl, job, null, 'worker lost during the last attempt');
      return m.term();
    }
    m.nak(1000);
  }

  /**
   * Runs one delivery: claims the job, waits for one of `slots` if none is free (the local queue), runs
   * the handler. The slot, and `release` (the pull loop's count of messages it holds), are given back as
   * soon as the handler is done, so the next job starts while this one's outcome is written (the message
   * stays unacked until that write lands).
   */
  async function handle(bound: BoundHandler, m: JsMsg, trace: TraceContext, slots: Slots, release: () => void): Promise<void> {
    const msg = parseMessage(jobMessageSchema, m.data);
    if (!msg) {
      log.warn({ subject: m.subject, seq: m.seq }, 'malformed job message; acked and dropped');
      return m.ack();
    }
    const job = await persist('claim', () => claim({ id: msg.id, series: msg.series, leaseMs, msgSeq: m.seq }));
    if (!job) return resolveUnclaimed(m, msg, await persist('read', () => getJob(sql, msg.id)));
    let attemptLog: Logger | null = null; // made on first use: most attempts log nothing
    const jlog = () => (attemptLog ??= log.child({ jobId: job.id, type: job.type, attempt: job.attempts, traceId: traceIdOf(job.traceparent) }));

    // Progress: seqs come from the block reserved at claim; PostgreSQL gets throttled milestones.
    let seq = job.seq;
    let reserved = job.seqReserved;
    let latest: { progress: number; message: string | null } | null = null;
    let writing: Promise<void> | null = null;
    let writeTimer: NodeJS.Timeout | null = null;
    let lastWrite = 0;
    /** The last progress message reported, written with the outcome. */
    let lastMessage: string | null = null;
    const controller = new AbortController();
    let abortReason: Abort | null = null;
    let slotWait: SlotWait | null = null;
    const abort = (reason: Abort) => {
      if (abortReason) return;
      abortReason = reason;
      slotWait?.cancel();
      controller.abort(reason === 'timeout' ? new JobTimeoutError(job.timeoutMs) : new Error(`job ${reason}`));
    };

    const writeProgress = () => {
      if (writing || !latest) return;
      const p = latest;
      const atSeq = seq;
      latest = null;
      lastWrite = Date.now();
      writing = persist('progress', () =>
        recordProgress(sql, { id: job.id, attempt: job.attempts, seq: atSeq, ...p, leaseMs }),
      )
        .then((r) => {
          if (!r) return abort('lost');
          reserved = r.seqReserved;
          if (r.cancelRequested) abort('cancelled');
        })
        .catch((e) => jlog().warn({ err: e }, 'progress write failed'))
        .finally(() => {
          writing = null;
          if (latest) scheduleWrite();
        });
    };
    const scheduleWrite = () => {
      if (writeTimer || writing) return;
      const wait = Math.max(0, lastWrite + o.progressDbIntervalMs - Date.now());
      writeTimer = setTimeout(() => {
        writeTimer = null;
        writeProgress();
      }, wait);
    };

    const ctx: JobContext = {
      jobId: job.id,
      attempt: job.attempts,
      maxAttempts: job.maxAttempts,
      signal: controller.signal,
      get log() {
        return jlog();
      },
      progress(percent, message) {
        if (abortReason) return;
        const progress = Math.min(100, Math.max(0, Number.isFinite(percent) ? percent : 0));
        latest = { progress, message: message ?? null };
        lastMessage = message ?? null;
        if (seq + 1 < reserved) {
          seq++;
          publishUpdate(nats.nc, names, {
            jobId: job.id,
            type: job.type,
            owner: job.owner,
            seq,
            state: 'RUNNING',
            progress,
            message: message ?? null,
            attempt: job.attempts,
            at: new Date().toISOString(),
          });
        } // else: the reservation is used up; the write below renews it and the next update goes out
        scheduleWrite();
      },
    };

    const entry: Held = { abort, started: false };
    held.set(job.id, entry);
    const heartbeat = setInterval(() => {
      m.working();
      void renewLease(sql, { id: job.id, attempt: job.attempts, leaseMs })
        .then((r) => {
          if (!r) abort('lost');
          else if (r.cancelRequested) abort('cancelled');
        })
        .catch(() => {}); // PostgreSQL down: the in-progress ack above still holds the message
    }, Math.max(250, Math.floor(o.ackWaitMs / 3)));

    // A free slot now, or wait in the local queue for one (the claim holds the job meanwhile); a job
    // cancelled, lost or handed back while it waits never runs.
    if (stopping) abort('shutdown');
    let started = !abortReason && slots.tryTake();
    if (!started && !abortReason) {
      slotWait = slots.take();
      started = await slotWait.got;
      slotWait = null;
      if (started && abortReason) {
        slots.give();
        started = false;
      }
    }

    let end: AttemptEnd;
    if (!started) {
      end = abortReason === 'cancelled' ? { kind: 'cancelled' } : { kind: 'shutdown' };
      release();
    } else {
      entry.started = true;
      const timeout = setTimeout(() => abort('timeout'), job.timeoutMs);
      try {
        const payload = bound.type.payload.parse(job.payload);
        const aborted = new Promise<never>((_, reject) =>
          controller.signal.addEventListener('abort', () => reject(controller.signal.reason), { once: true }),
        );
        const run = () => inAttemptSpan(trace, job, async () => bound.run(payload, ctx));
        const result = await Promise.race([Promise.resolve().then(run), aborted]);
        end = { kind: 'returned', result: result === undefined ? null : result };
        JSON.stringify(end.result); // a result PostgreSQL cannot store fails the attempt (not the batch it would join)
      } catch (error) {
        end =
          abortReason === 'cancelled'
            ? { kind: 'cancelled' }
            : abortReason === 'shutdown' || abortReason === 'lost'
              ? { kind: 'shutdown' }
              : { kind: 'threw', error };
      } finally {
        clearTimeout(timeout);
        if (writeTimer) clearTimeout(writeTimer);
        latest = null;
        slots.give();
        release();
      }
    }
    try {
      await writing;
      if (abortReason === 'lost') {
        jlog().warn('the job is no longer this worker’s (lease lost); leaving the message to its new holder');
        return;
      }
      await finish(job, m, classifyOutcome(end, job.attempts, job.maxAttempts, bound.type.backoff), seq, lastMessage, jlog);
    } finally {
      clearInterval(heartbeat);
      held.delete(job.id);
    }
  }

  async function finish(
    job: JobRow,
    m: JsMsg,
    outcome: ReturnType<typeof classifyOutcome>,
    lastSeq: number,
    lastMessage: string | null,
    jlog: () => Logger,
  ): Promise<void> {
    const fence = { id: job.id, attempt: job.attempts, lastSeq };
    const superseded = () =>
      // Not ours any more (a newer attempt claimed it): its holder settles the message.
      jlog().warn({ outcome: outcome.state }, 'outcome not recorded: the attempt was superseded');
    let after: JobRow | null;
    switch (outcome.state) {
      case 'SUCCEEDED': {
        // The success batch publishes the update and acks the message once the batch is committed.
        const done = await persist('succeeded', () => succeed({ ...fence, result: outcome.result, progressMessage: lastMessage, msg: m }));
        if (!done) superseded();
        return;
      }
      case 'CANCELLED':
        after = await persist('cancelled', () => markCancelled(sql, fence));
        break;
      case 'RETRYING':
        after = await persist('retrying', () =>
          markRetrying(sql, { ...fence, error: outcome.error, delayMs: outcome.delayMs }),
        );
        break;
      case 'FAILED':
        after = await persist('failed', () => markFailed(sql, { ...fence, error: outcome.error, attemptFailed: true }));
        break;
      case 'QUEUED':
        after = await persist('hand back', () => markQueuedAgain(sql, fence));
        break;
      default:
        throw new UnreachableCaseError(outcome);
    }
    if (!after) return superseded();
    publishUpdate(nats.nc, names, updateFromJob(after));
    switch (outcome.verb) {
      case 'ack':
        m.ack();
        break;
      case 'nak':
        m.nak(outcome.delayMs);
        break;
      case 'term':
        await persist('dead letter', () => copyToDeadLetters(dl, after, m));
        m.term();
        break;
      default:
        throw new UnreachableCaseError(outcome);
    }
    if (outcome.state === 'RETRYING' || outcome.state === 'FAILED') jlog().info({ error: outcome.error }, `attempt failed → ${outcome.state}`);
  }

  async function pull(bound: BoundHandler): Promise<void> {
    const consumer: Consumer = await nats.js.consumers.get(names.jobsStream, names.workerConsumer(bound.type.name));
    const slots = new Slots(o.concurrency);
    const turnover = new Turnover(CLAIM_AHEAD_HORIZON_MS);
    const maxAhead = CLAIM_AHEAD_MAX_FACTOR * o.concurrency;
    /** Messages fetched whose handler has not returned yet (claiming, queued locally, or running). */
    let inUse = 0;
    let wake: (() => void) | null = null;
    while (!stopping) {
      // Hold the running jobs plus the local queue: the jobs the slots should start within the horizon
      // at the recent turnover (none while handlers are slow or idle). Pull again once half of that is
      // free (or all is): under load one pull request per many jobs, whose claims go out as one batch.
      const limit = o.concurrency + Math.min(maxAhead, turnover.expected());
      const free = limit - inUse;
      if (free < Math.ceil(limit / 2) && inUse > 0) {
        await new Promise<void>((r) => {
          wake = r;
          waiting.add(r);
        });
        continue;
      }
      try {
        const batch = await consumer.fetch({ max_messages: free, expires: 5000 });
        const stop = () => void batch.close();
        stopFetch.add(stop);
        for await (const m of batch) {
          inUse++;
          handling++;
          let released = false;
          const release = () => {
            if (released) return;
            released = true;
            inUse--;
            turnover.note();
            const w = wake;
            wake = null;
            if (w) waiting.delete(w);
            w?.();
          };
          void inRunSpan(m, bound.type.name, (trace) => handle(bound, m, trace, slots, release))
            .catch((e) => log.error({ err: e, subject: m.subject }, 'job handling failed; the message will be redelivered'))
            .finally(() => {
              release();
              handling--;
            });
        }
        stopFetch.delete(stop);
      } catch (e) {
        if (stopping) break;
        log.warn({ err: e, type: bound.type.name }, 'pull failed (NATS unavailable?); retrying');
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  }

  for (const h of o.handlers) loops.push(pull(h));

  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  return {
    get running() {
      let n = 0;
      for (const h of held.values()) if (h.started) n++;
      return n;
    },
    get queued() {
      let n = 0;
      for (const h of held.values()) if (!h.started) n++;
      return n;
    },
    async stop(graceMs) {
      stopping = true;
      for (const stop of stopFetch) stop();
      for (const w of waiting) w();
      // Jobs in the local queue never started: hand them back now (a claim still in flight does so
      // when it lands). Running ones get the grace period.
      for (const h of held.values()) if (!h.started) h.abort('shutdown');
      const deadline = Date.now() + graceMs;
      while (handling && Date.now() < deadline) await pause(50);
      for (const h of held.values()) h.abort('shutdown');
      while (handling) await pause(20);
      cancelSub.unsubscribe();
      await Promise.race([Promise.allSettled(loops), pause(6000)]);
    },
  };
}
