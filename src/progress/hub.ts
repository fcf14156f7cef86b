/**
 * In-process fan-out of job updates: one core-NATS subscription per distinct subject pattern, shared by
 * every GraphQL subscription that needs it (no JetStream consumer per subscriber). After NATS reconnects,
 * listeners are told to resynchronise from PostgreSQL, since updates published meanwhile were missed.
 *
 * `listen` only queues a new pattern's SUB: the server may not have it yet, and an update published meanwhile
 * is missed. `subscribed` waits until it has (one ping's round trip, shared by the patterns subscribed in one
 * event-loop turn); a subscription reads PostgreSQL only after it, so an update published after that read
 * comes live.
 *
 * From when: the connection was last known to work (a message arrived, or a ping sent was answered: a
 * silent network loss is only noticed two unanswered pings later), minus `MISSED_UPDATES_MARGIN_MS`.
 */
import type { NatsConnection, Subscription } from '@nats-io/nats-core';
import type { JobUpdateMessage } from '../messaging/messages.js';
import { updatesIn } from './updates.js';

/**
 * How long before the connection was last known to work a missed update's `at` may lie: `at` is when its
 * change's statement started, and the update is published after that change commits.
 */
export const MISSED_UPDATES_MARGIN_MS = 5_000;

export interface UpdateListener {
  update(u: JobUpdateMessage): void;
  /** Updates may have been missed (NATS reconnected): those whose `at` is at or after `from`. */
  resync(from: Date): void;
}

export interface UpdateHub {
  /** Starts listening on a subject pattern; returns the unsubscribe function. */
  listen(pattern: string, listener: UpdateListener): () => void;
  /**
   * Resolves once the NATS server has the subscriptions on `patterns` (those listened to): every update
   * published from then on reaches their listeners. At once for patterns it had already. Also resolves when
   * the connection is lost meanwhile (or closed): a reconnect tells the listeners to resync.
   */
  subscribed(patterns: readonly string[]): Promise<void>;
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

/**
 * Updates handed to listeners in one event-loop turn at most. A message of many submissions (up to 1,000,
 * updates.ts `publishUpdates`) goes out in slices, each followed by the `afterDispatch` flush and a turn of
 * the event loop, so that subscriptions write and drain as they did with one message per update (their
 * socket writes stay under the flow-control mark, their inboxes under their bounds). Messages that come
 * meanwhile wait behind it: every listener gets the updates in the order they came.
 */
export const DISPATCH_SLICE = 100;

export function createUpdateHub(nc: NatsConnection): UpdateHub {
  /** `subscribed`: resolves once the server has answered a ping sent after the pattern's SUB. */
  const topics = new Map<string, { sub: Subscription; listeners: Set<UpdateListener>; subscribed: Promise<void> }>();
  let listenerCount = 0;
  let closed = false;
  const dispatched = new Set<() => void>();
  /** Updates waiting to be handed out (see DISPATCH_SLICE), oldest first; `next`: the first not handed out. */
  const backlog: { listeners: Set<UpdateListener>; updates: JobUpdateMessage[]; next: number }[] = [];

  function dispatch(listeners: Set<UpdateListener>, updates: readonly JobUpdateMessage[], from: number, to: number): void {
    for (let i = from; i < to; i++) for (const l of listeners) l.update(updates[i]!);
    for (const fn of dispatched) fn();
  }

  /** Hands out up to DISPATCH_SLICE updates of the backlog, then comes back in the next turn for the rest. */
  function drainBacklog(): void {
    let room = DISPATCH_SLICE;
    while (backlog.length && room > 0) {
      const b = backlog[0]!;
      const to = Math.min(b.updates.length, b.next + room);
      dispatch(b.listeners, b.updates, b.next, to);
      room -= to - b.next;
      b.next = to;
      if (b.next === b.updates.length) backlog.shift();
    }
    if (backlog.length && !closed) setImmediate(drainBacklog);
  }

  /**
   * The round trip that the SUBs queued in this event-loop turn wait for: its ping goes after them all, and
   * the server answers it after processing them (a fan-out opening thousands of patterns pays one).
   */
  let pendingFlush: Promise<void> | null = null;
  const flushSoon = (): Promise<void> =>
    (pendingFlush ??= new Promise<void>((r) => setImmediate(r)).then(() => {
      pendingFlush = null;
      return nc.flush().catch(() => {}); // lost or closed: a reconnect resyncs the listeners
    }));

  /** When the connection was last known to deliver (ms). */
  let lastHeard = Date.now();
  /** When the last ping was sent on this connection (null: none since it was made). */
  let pingSentAt: number | null = null;
  void (async () => {
    for await (const s of nc.status()) {
      if (s.type === 'ping') {
        // One ping pending is the one being sent now: the one before was answered, after it was sent.
        if (s.pendingPings === 1 && pingSentAt !== null) lastHeard = Math.max(lastHeard, pingSentAt);
        pingSentAt = Date.now();
      } else if (s.type === 'disconnect' || s.type === 'reconnect') {
        pingSentAt = null; // a new connection's pings say nothing about the old one
      }
      if (s.type === 'reconnect') {
        const from = new Date(lastHeard - MISSED_UPDATES_MARGIN_MS);
        lastHeard = Date.now();
        for (const t of topics.values()) for (const l of t.listeners) l.resync(from);
      }
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
            lastHeard = Date.now();
            const updates = updatesIn(msg.subject, msg.data);
            if (!updates.length) return;
            if (!backlog.length && updates.length <= DISPATCH_SLICE) return dispatch(listeners, updates, 0, updates.length);
            backlog.push({ listeners, updates, next: 0 });
            if (backlog.length === 1) setImmediate(drainBacklog);
          },
        });
        topic = { sub, listeners, subscribed: flushSoon() };
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
    async subscribed(patterns) {
      await Promise.all(patterns.map((p) => topics.get(p)?.subscribed));
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
      backlog.length = 0;
      for (const t of topics.values()) t.sub.unsubscribe();
      topics.clear();
    },
  };
}
