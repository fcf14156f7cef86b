/**
 * Each receiver's share of the notifier's slots, so that one receiver cannot hold them all. A receiver is a
 * webhook's host and port, or the SMTP server for email. While its sends go through it may use every slot
 * but one; once its latest send failed (a timeout, a refusal, a network error), one slot, until a send to it
 * goes through again. A receiver that never answers thus delays the others by one slot, not all of them.
 */
import type { NotificationMessage } from '../messaging/messages.js';

/** Who receives a delivery; null for a message that does not say (published before the field existed). */
export function receiverOf(msg: Pick<NotificationMessage, 'deliveryId' | 'channel' | 'target'>): string | null {
  if (!msg.channel || msg.target === undefined) return null;
  if (msg.channel === 'EMAIL') return 'smtp';
  try {
    return `webhook ${new URL(msg.target).host}`;
  } catch {
    return `webhook ${msg.target}`;
  }
}

export interface ReceiverShares {
  /** Takes a slot of the receiver's share; false when its share is in use (the delivery waits its turn). */
  take(receiver: string): boolean;
  /** Whether the receiver's latest send failed. */
  failing(receiver: string): boolean;
  /**
   * Gives the slot back; `sent`: whether the send went through (null when nothing was sent), `ms`: how long
   * the slot was held.
   */
  release(receiver: string, sent: boolean | null, ms: number): void;
  /**
   * When a delivery the receiver's share has no slot for should come round again, in ms from `now`: after
   * the ones this notifier sent round before it, spaced by the share's pace (its slots over the time its
   * recent sends held one), at most MAX_LINE_MS ahead. So a healthy receiver's backlog comes back about as
   * fast as it takes it, each delivery about once, instead of every few seconds each. Null while no send
   * to it has gone through.
   */
  nextInLine(receiver: string, now: number): number | null;
}

/** Receivers remembered at most, failing ones and paces each (a flood of hosts must not grow without end). */
const MAX_REMEMBERED = 10_000;
/** How far ahead a delivery waiting for its turn is sent round at most (it comes round again, if need be). */
export const MAX_LINE_MS = 600_000;

/** A receiver's pace: how long its recent sends held a slot (moving average), and where its line ends. */
interface Pace {
  sendMs: number;
  lineEnd: number;
}

/** Adds to a map that keeps at most MAX_REMEMBERED keys, forgetting the longest known. */
function remember<K>(keys: Set<K> | Map<K, unknown>, add: () => void): void {
  add();
  if (keys.size > MAX_REMEMBERED) keys.delete(keys.keys().next().value!);
}

export function receiverShares(concurrency: number): ReceiverShares {
  const busy = new Map<string, number>();
  const failed = new Set<string>();
  const paces = new Map<string, Pace>();
  const shareOf = (receiver: string) => (failed.has(receiver) ? 1 : Math.max(1, concurrency - 1));
  return {
    take(receiver) {
      const n = busy.get(receiver) ?? 0;
      if (n >= shareOf(receiver)) return false;
      busy.set(receiver, n + 1);
      return true;
    },
    failing: (receiver) => failed.has(receiver),
    release(receiver, sent, ms) {
      const n = (busy.get(receiver) ?? 1) - 1;
      if (n > 0) busy.set(receiver, n);
      else busy.delete(receiver);
      if (sent === true) {
        failed.delete(receiver);
        const p = paces.get(receiver);
        if (p) p.sendMs = 0.8 * p.sendMs + 0.2 * ms;
        else remember(paces, () => paces.set(receiver, { sendMs: ms, lineEnd: 0 }));
      } else if (sent === false && !failed.has(receiver)) remember(failed, () => failed.add(receiver));
    },
    nextInLine(receiver, now) {
      const p = paces.get(receiver);
      if (!p) return null;
      const gap = p.sendMs / shareOf(receiver);
      p.lineEnd = Math.min(Math.max(p.lineEnd, now) + gap, now + MAX_LINE_MS);
      return Math.round(p.lineEnd - now);
    },
  };
}
