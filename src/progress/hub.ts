/**
 * In-process fan-out of job updates: one core-NATS subscription per distinct subject pattern, shared by
 * every GraphQL subscription that needs it (no JetStream consumer per subscriber). After NATS reconnects,
 * listeners are told to resynchronise from PostgreSQL, since updates published meanwhile were missed.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import { jobUpdateSchema, parseMessage, type JobUpdateMessage } from '../messaging/messages.js';

export interface UpdateListener {
  update(u: JobUpdateMessage): void;
  /** Updates may have been missed (NATS reconnected). */
  resync(): void;
}

export interface UpdateHub {
  /** Starts listening on a subject pattern; returns the unsubscribe function. */
  listen(pattern: string, listener: UpdateListener): () => void;
  /**
   * Runs `fn` each time an update has been handed to all its listeners (the transport flushes the writes
   * that update caused); returns the function that stops it.
   */
  afterDispatch(fn: () => void): () => void;
  /** Patterns with a live NATS subscription (for tests and metrics). */
  readonly subscriptionCount: number;
  readonly listenerCount: number;
  close(): void;
}

export function createUpdateHub(nc: NatsConnection): UpdateHub {
  const topics = new Map<string, { sub: Subscription; listeners: Set<UpdateListener> }>();
  let listenerCount = 0;
  let closed = false;
  const dispatched = new Set<() => void>();

  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'reconnect') for (const t of topics.values()) for (const l of t.listeners) l.resync();
    }
  })().catch(() => {});

  return {
    listen(pattern, listener) {
      let topic = topics.get(pattern);
      if (!topic) {
        const listeners = new Set<UpdateListener>();
        const sub = nc.subscribe(pattern, {
          callback: (err, msg) => {
            if (err) return;
            const u = parseMessage(jobUpdateSchema, msg.data);
            if (!u) return;
            for (const l of listeners) l.update(u as JobUpdateMessage);
            for (const fn of dispatched) fn();
          },
        });
        topic = { sub, listeners };
        topics.set(pattern, topic);
      }
      topic.listeners.add(listener);
      listenerCount++;
      const t = topic;
      let done = false;
      return () => {
        if (done) return;
        done = true;
        listenerCount--;
        t.listeners.delete(listener);
        if (t.listeners.size === 0 && topics.get(pattern) === t) {
          topics.delete(pattern);
          if (!closed) t.sub.unsubscribe();
        }
      };
    },
    afterDispatch(fn) {
      dispatched.add(fn);
      return () => dispatched.delete(fn);
    },
    get subscriptionCount() {
      return topics.size;
    },
    get listenerCount() {
      return listenerCount;
    },
    close() {
      closed = true;
      for (const t of topics.values()) t.sub.unsubscribe();
      topics.clear();
    },
  };
}
