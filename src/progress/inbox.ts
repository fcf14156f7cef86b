/**
 * The updates waiting for one subscription: the hub's listener pushes, the subscription's generator takes.
 * Bounded: past `max` it either drops the oldest (a live-only stream) or empties itself and reports the
 * overflow (a stream that can resynchronise from PostgreSQL instead).
 *
 * With `latestProgress` (one job's stream), a subscriber that is behind gets the latest progress, not
 * every step: a progress report that arrives while the previous one still waits here replaces it. Only a
 * report that follows another report of the same attempt is replaced; every state change (a new state or
 * a new attempt) stays, and the order is kept.
 */
import { JobState } from '../jobs/state.js';
import type { JobUpdateMessage } from '../messaging/messages.js';
import { progressCoalesced } from '../observability/metrics.js';

export interface InboxOptions {
  max: number;
  onFull: 'drop-oldest' | 'empty';
  /** Replace a waiting progress report by a newer one of the same run. @default false */
  latestProgress?: boolean;
  /** With `empty`: told what the inbox dropped (what was queued, then the update that did not fit). */
  onEmpty?: (dropped: readonly JobUpdateMessage[]) => void;
}

/** Whether `b` only reports progress after `a`: same job, both RUNNING, same attempt, later seq. */
function isProgressAfter(a: JobUpdateMessage | null | undefined, b: JobUpdateMessage): boolean {
  return (
    !!a && a.state === JobState.RUNNING && b.state === JobState.RUNNING && a.jobId === b.jobId && a.attempt === b.attempt && b.seq > a.seq
  );
}

export class UpdateInbox {
  private items: JobUpdateMessage[] = [];
  private waiter: (() => void) | null = null;
  /** The update taken last (what the queue's first item follows), for `latestProgress`. */
  private taken: JobUpdateMessage | null = null;
  /** Set by `close()`: `take()` answers null from then on. */
  closed = false;
  /**
   * Takes an update at once instead of queueing it, while the taker waits and nothing is queued; answers
   * false to have it queued. Set by the stream that owns the inbox.
   */
  direct: ((u: JobUpdateMessage) => boolean) | null = null;

  constructor(private readonly o: InboxOptions) {}

  /** Queues an update; false when the inbox was full and (with `empty`) emptied instead. */
  push(u: JobUpdateMessage): boolean {
    if (this.direct && this.waiter && this.items.length === 0 && this.direct(u)) {
      this.taken = u;
      return true;
    }
    if (this.o.latestProgress && this.replacesLast(u)) {
      this.items[this.items.length - 1] = u;
      progressCoalesced.inc();
      this.wake();
      return true;
    }
    let kept = true;
    if (this.items.length >= this.o.max) {
      if (this.o.onFull === 'empty') {
        this.o.onEmpty?.([...this.items, u]);
        this.items.length = 0;
        kept = false;
      } else this.items.shift();
    }
    if (kept) this.items.push(u);
    this.wake();
    return kept;
  }

  /** Whether `u` may replace the last waiting update: both report progress of the run before them. */
  private replacesLast(u: JobUpdateMessage): boolean {
    const n = this.items.length;
    if (n === 0) return false;
    const last = this.items[n - 1]!;
    return isProgressAfter(last, u) && isProgressAfter(n > 1 ? this.items[n - 2] : this.taken, last);
  }

  /** Drops what is queued (the caller reads from PostgreSQL instead). */
  clear(): void {
    this.items.length = 0;
    this.taken = null;
  }

  /** Wakes a waiting `take()` with nothing (it answers undefined: look at your flags). */
  wake(): void {
    const w = this.waiter;
    this.waiter = null;
    w?.();
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** The next update; undefined when woken without one; null once closed. */
  async take(): Promise<JobUpdateMessage | null | undefined> {
    if (this.closed) return null;
    if (this.items.length === 0) await new Promise<void>((r) => (this.waiter = r));
    if (this.closed) return null;
    const u = this.items.shift();
    if (u) this.taken = u;
    return u;
  }
}
