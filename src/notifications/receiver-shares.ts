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
  /** Gives the slot back; `sent`: whether the send went through (null when nothing was sent). */
  release(receiver: string, sent: boolean | null): void;
}

/** Failing receivers remembered at most (each a few bytes; a flood of dead hosts must not grow without end). */
const MAX_REMEMBERED = 10_000;

export function receiverShares(concurrency: number): ReceiverShares {
  const busy = new Map<string, number>();
  const failed = new Set<string>();
  return {
    take(receiver) {
      const n = busy.get(receiver) ?? 0;
      if (n >= (failed.has(receiver) ? 1 : Math.max(1, concurrency - 1))) return false;
      busy.set(receiver, n + 1);
      return true;
    },
    failing: (receiver) => failed.has(receiver),
    release(receiver, sent) {
      const n = (busy.get(receiver) ?? 1) - 1;
      if (n > 0) busy.set(receiver, n);
      else busy.delete(receiver);
      if (sent === true) failed.delete(receiver);
      else if (sent === false && !failed.has(receiver)) {
        failed.add(receiver);
        if (failed.size > MAX_REMEMBERED) failed.delete(failed.values().next().value!); // the longest known
      }
    },
  };
}
