/**
 * The updates waiting for one subscription: the hub's listener pushes, the subscription's generator takes.
 * Bounded: past `max` it either drops the oldest (a live-only stream) or empties itself and reports the
 * overflow (a stream that can resynchronise from PostgreSQL instead).
 */
import type { JobUpdateMessage } from '../messaging/messages.js';

export class UpdateInbox {
  private items: JobUpdateMessage[] = [];
  private waiter: (() => void) | null = null;
  /** Set by `close()`: `take()` answers null from then on. */
  closed = false;

  constructor(
    private readonly max: number,
    private readonly onFull: 'drop-oldest' | 'empty',
  ) {}

  /** Queues an update; false when the inbox was full and (with `empty`) emptied instead. */
  push(u: JobUpdateMessage): boolean {
    let kept = true;
    if (this.items.length >= this.max) {
      if (this.onFull === 'empty') {
        this.items.length = 0;
        kept = false;
      } else this.items.shift();
    }
    if (kept) this.items.push(u);
    this.wake();
    return kept;
  }

  /** Drops what is queued (the caller reads from PostgreSQL instead). */
  clear(): void {
    this.items.length = 0;
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
    const u = this.items.shift();
    if (u) return u;
    await new Promise<void>((r) => (this.waiter = r));
    return this.closed ? null : this.items.shift();
  }
}
