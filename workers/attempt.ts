/**
 * One attempt of a claimed job in this worker, between the claim (written by the runner) and the outcome
 * (written by settle.ts): it waits for a slot if none is free (the local queue), runs the handler with its context
 * (progress, abort signal, log), and keeps the job's message and lease alive (`beat`, from the pool's
 * timer). A class rather than closures: the runner makes one per job, thousands a second.
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { Context as TraceContext } from '@opentelemetry/api';
import { asStoredReal, type ProgressRecorded, type ProgressWrite } from '../src/db/attempts.js';
import type { JobRow } from '../src/db/schema.js';
import type { Fence } from '../src/db/transition.js';
import type { ProgressReport } from '../src/db/transitions.js';
import { JobTimeoutError } from '../src/errors.js';
import { storableText } from '../src/jobs/payload-check.js';
import type { AttemptEnd } from '../src/jobs/outcome.js';
import type { Logger } from '../src/log.js';
import type { Nats } from '../src/messaging/connect.js';
import type { Names } from '../src/messaging/names.js';
import { traceIdOf } from '../src/observability/tracing.js';
import { publishUpdate } from '../src/progress/updates.js';
import type { BoundHandler, JobContext } from './handler.js';
import { watchAbandoned } from './abandoned.js';
import { inAttemptSpan } from './observe.js';
import type { SlotWait, Slots } from './slots.js';
import type { Persist } from './persist.js';
import { checkResult, payloadOf } from './handler-io.js';

/** Why an attempt is stopped; 'paused' only before it starts (its type was paused while it waited for a slot). */
export type Abort = 'cancelled' | 'timeout' | 'shutdown' | 'lost' | 'paused';

/** What the attempts of one pool share. */
export interface AttemptDeps {
  nats: Nats;
  names: Names;
  log: Logger;
  leaseMs: number;
  /** Minimum gap between progress writes to PostgreSQL. */
  progressDbIntervalMs: number;
  /** Writes a progress milestone (the pool batches the writes that fall due together). */
  recordProgress(w: ProgressWrite): Promise<ProgressRecorded | null>;
  /** Retries a PostgreSQL write until it goes through (persist.ts). */
  persist: Persist;
}

const isPromiseLike = (x: unknown): x is PromiseLike<unknown> =>
  typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';

export class Attempt {
  /** The handler has started (it holds a slot until it returns). */
  started = false;
  /**
   * The handler has returned or thrown (or was aborted): the attempt is over, and progress reported from
   * then on (by work it started and did not await) is dropped. Its seqs would collide with the outcome's:
   * the outcome's update would reach watchers as a repeat of a progress report and be dropped.
   */
  ended = false;
  /** When the message's AckWait and the job's lease were last renewed. */
  lastBeat = Date.now();
  abortReason: Abort | null = null;
  /** The last seq used: seqs come from the block reserved at claim. */
  seq: number;
  /** The last progress reported, written with the outcome. */
  lastReport: ProgressReport | null = null;
  /** The throttled progress write in flight, if any (the outcome is written after it). */
  writing: Promise<void> | null = null;
  #reserved: number;
  /** The report to write next: the last one published (its seq's history row), with its update's `at`. */
  #latest: (ProgressReport & { at: string }) | null = null;
  #lastPublished: (ProgressReport & { at: string }) | null = null;
  #writeTimer: NodeJS.Timeout | null = null;
  #lastWrite = 0;
  /** The handler's AbortSignal is made when it first asks for it; `#onAbort` ends an awaited handler. */
  #controller: AbortController | null = null;
  #abortError: Error | null = null;
  #onAbort: ((e: Error) => void) | null = null;
  #slotWait: SlotWait | null = null;
  #log: Logger | null = null;
  /**
   * PostgreSQL's clock minus this one, as seen at the claim (its `updated_at`, read just now; a little less
   * by the claim's commit): a progress report's `at` is on the clock every other update's `at` comes from, so
   * a client resuming `jobUpdates` from the latest `at` it saw misses nothing when this machine's clock is off.
   */
  readonly #clockOffsetMs: number;

  constructor(
    readonly job: JobRow,
    readonly m: JsMsg,
    readonly d: AttemptDeps,
    /** The token its claim was made with (claims.ts). */
    readonly token: string,
  ) {
    this.seq = job.seq;
    this.#reserved = job.seqReserved;
    this.#clockOffsetMs = job.updatedAt.getTime() - Date.now();
  }

  /** What this attempt's writes are fenced by: its job, attempt, series and claim. */
  get fence(): Fence & { id: string } {
    return { id: this.job.id, attempt: this.job.attempts, series: this.job.series, token: this.token };
  }

  /** The attempt's logger, made on first use: most attempts log nothing. */
  get log(): Logger {
    const { job } = this;
    return (this.#log ??= this.d.log.child({ jobId: job.id, type: job.type, attempt: job.attempts, traceId: traceIdOf(job.traceparent) }));
  }

  get signal(): AbortSignal {
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.#abortError) this.#controller.abort(this.#abortError);
    }
    return this.#controller.signal;
  }

  /** Stops the attempt (once): a waiting one never runs; a running handler sees its signal abort. */
  abort(reason: Abort): void {
    if (this.abortReason) return;
    this.abortReason = reason;
    this.#abortError = reason === 'timeout' ? new JobTimeoutError(this.job.timeoutMs) : new Error(`job ${reason}`);
    this.#slotWait?.cancel();
    this.#controller?.abort(this.#abortError);
    this.#onAbort?.(this.#abortError);
  }

  /** In-progress ack; the lease is renewed with the other attempts' (runner.ts), answered by `leaseRenewed`. */
  beat(now: number): void {
    this.lastBeat = now;
    this.m.working();
  }

  /** A renewal's answer: a lost fence or a cancel request aborts. */
  leaseRenewed(r: { cancelRequested: boolean } | null): void {
    if (!r) this.abort('lost');
    else if (r.cancelRequested) this.abort('cancelled');
  }

  /**
   * Takes a free slot or waits in line for one, then runs the handler and gives the slot back as soon as
   * it returns. Answers how the attempt ended; one aborted while it waited never ran.
   */
  async run(bound: BoundHandler, trace: TraceContext | null, slots: Slots): Promise<AttemptEnd> {
    let started = !this.abortReason && slots.tryTake();
    if (!started && !this.abortReason) {
      this.#slotWait = slots.take();
      started = await this.#slotWait.got;
      this.#slotWait = null;
      if (started && this.abortReason) {
        slots.give();
        started = false;
      }
    }
    if (!started) {
      const r = this.abortReason;
      return r === 'cancelled' ? { kind: 'cancelled' } : { kind: 'handedBack', why: r === 'paused' ? 'paused' : 'shutdown' };
    }
    this.started = true;
    let timeout: NodeJS.Timeout | null = null;
    let pending: PromiseLike<unknown> | null = null;
    try {
      // The schema may check asynchronously (a lookup): its wait counts towards the timeout, and a cancel,
      // lost lease or stop during it ends the attempt there (the handler never starts).
      timeout = setTimeout(() => this.abort('timeout'), this.job.timeoutMs);
      const payload = await this.#untilAborted(payloadOf(bound, this.job.payload));
      const ctx = new AttemptContext(this);
      let result = inAttemptSpan(trace, this.job, () => bound.run(payload, ctx));
      if (isPromiseLike(result)) {
        // Only a handler that awaits can time out or be aborted: its outcome is decided when that happens.
        // (Its time runs from the payload check: a synchronous part before the first await counts.)
        result = await this.#untilAborted((pending = result));
      }
      const end: AttemptEnd = { kind: 'returned', result: result === undefined ? null : result };
      checkResult(end.result);
      return end;
    } catch (error) {
      const reason = this.abortReason;
      // Aborted: the handler may run on (it ignores its signal); only this path pays for watching it.
      if (reason && pending) watchAbandoned(pending, this.job.type, reason, this.log);
      if (reason === 'cancelled') return { kind: 'cancelled' };
      return reason === 'shutdown' || reason === 'lost' ? { kind: 'handedBack', why: 'shutdown' } : { kind: 'threw', error };
    } finally {
      this.ended = true;
      if (timeout) clearTimeout(timeout);
      if (this.#writeTimer) clearTimeout(this.#writeTimer);
      this.#latest = null;
      slots.give();
    }
  }

  /** What `running` settles to, or the abort's error as soon as the attempt is (or was already) aborted. */
  #untilAborted<T>(running: PromiseLike<T>): Promise<T> {
    return new Promise((resolve, reject) => {
      if (this.#abortError) return reject(this.#abortError);
      this.#onAbort = reject;
      running.then(resolve, reject);
    });
  }

  /**
   * `ctx.progress`: published at once (with a reserved seq), recorded in PostgreSQL throttled; dropped once
   * the attempt has ended or been aborted.
   */
  progress(percent: number, message: string | undefined): void {
    if (this.abortReason || this.ended) return;
    const { job } = this;
    const p = Number(percent); // a JavaScript caller may pass anything
    // Infinity is done: 100; a share too small for the `real` column (below about 1e-45, which PostgreSQL
    // refuses rather than round) is 0, or its write, the outcome's too, would fail. Published as the column
    // will store it, so the update replayed from its history row is the same (100 / 3: 33.333332).
    const progress = Number.isNaN(p) || Math.fround(p) === 0 ? 0 : asStoredReal(Math.min(100, Math.max(0, p)));
    message = message == null ? undefined : storableText(String(message)); // null too: no message, not the text "null"
    const at = new Date(Date.now() + this.#clockOffsetMs).toISOString();
    this.lastReport = { progress, message: message ?? null };
    if (this.seq + 1 < this.#reserved) {
      this.seq++;
      this.#lastPublished = { ...this.lastReport, at };
      publishUpdate(this.d.nats.nc, this.d.names, {
        jobId: job.id,
        type: job.type,
        owner: job.owner,
        seq: this.seq,
        state: 'RUNNING',
        progress,
        message: message ?? null,
        attempt: job.attempts,
        at,
      });
    }
    // Used up, the reservation leaves a report unpublished and unrecorded: the row of its seq says what was
    // published at it. The write (of the last one published again, if need be) renews it; the next goes out.
    this.#latest = this.#lastPublished;
    this.#scheduleWrite();
  }

  #scheduleWrite(): void {
    if (this.#writeTimer || this.writing) return;
    // Due on a grid of the interval shared by every attempt of the process (at or after this one's next
    // allowed write), so the writes of many running jobs fall due together and go as one statement.
    const interval = this.d.progressDbIntervalMs;
    const now = Date.now();
    const earliest = Math.max(now, this.#lastWrite + interval);
    const due = interval > 0 ? Math.ceil(earliest / interval) * interval : earliest;
    this.#writeTimer = setTimeout(() => {
      this.#writeTimer = null;
      this.#writeProgress();
    }, due - now);
  }

  #writeProgress(): void {
    const p = this.#latest;
    if (this.writing || !p) return;
    const { d } = this;
    const atSeq = this.seq;
    this.#latest = null;
    this.#lastWrite = Date.now();
    this.writing = d
      .persist('progress', () => d.recordProgress({ ...this.fence, seq: atSeq, ...p, leaseMs: d.leaseMs }))
      .then((r) => {
        if (!r) return this.abort('lost');
        this.#reserved = r.seqReserved;
        if (r.cancelRequested) this.abort('cancelled');
      })
      .catch((e) => this.log.warn({ err: e }, 'progress write failed'))
      .finally(() => {
        this.writing = null;
        if (this.#latest) this.#scheduleWrite();
      });
  }
}

/** What the handler sees of its attempt. */
class AttemptContext implements JobContext {
  readonly jobId: string;
  readonly attempt: number;
  readonly maxAttempts: number;
  readonly #attempt: Attempt;

  constructor(attempt: Attempt) {
    this.#attempt = attempt;
    this.jobId = attempt.job.id;
    this.attempt = attempt.job.attempts;
    this.maxAttempts = attempt.job.maxAttempts;
  }

  get signal(): AbortSignal {
    return this.#attempt.signal;
  }

  get log(): Logger {
    return this.#attempt.log;
  }

  progress(percent: number, message?: string): void {
    this.#attempt.progress(percent, message);
  }
}
