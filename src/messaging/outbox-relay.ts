/**
 * Publishes outbox entries to JetStream. Right after a submit commits, its entries are published at once
 * (`publishSoon`); the relay loop publishes whatever was left behind (a crash, NATS down) and a scheduled
 * job's entry once its `runAt` has come (each pass, every RELAY_INTERVAL_MS), and every tenth pass runs the
 * reconciler (reconciler.ts), which re-queues jobs and notification deliveries whose message JetStream no
 * longer has (a power loss on a 2.9 server, a purge). Each loop pass first re-queues the notification
 * deliveries whose next try is due (they wait in PostgreSQL, not in the stream: `requeueDueDeliveries`), so
 * the same pass publishes their new messages.
 * Every publish carries `Nats-Msg-Id`, so a second publish of an entry inside the duplicate window is dropped.
 */
import type { Sql } from '../db/client.js';
import { markPublished, purgePublished, withUnpublished, type OutboxEntry, type PublishedEntry } from '../db/outbox.js';
import { analyzeIfGrown } from '../db/maintenance.js';
import { requeueDueDeliveries } from '../db/notifications.js';
import type { Logger } from '../log.js';
import type { Nats } from './connect.js';
import { encode, notificationMessageSchema, type JobUpdateMessage } from './messages.js';
import { publishUpdates } from '../progress/updates.js';
import { createPublisher } from './publisher.js';
import { createReconciler } from './reconciler.js';
import type { Names } from './names.js';
import { inPublishSpan } from '../observability/tracing.js';
import { orAfter, STOP_WAIT_MS } from '../deadline.js';

/**
 * Due notification deliveries one relay pass re-queues at most; more wait for its next pass. So however many
 * come due together (a dead receiver's), an API process puts at most this many messages in the stream ahead
 * of a new delivery at once.
 */
const REQUEUE_BATCH = 1000;
/** Publishes one relay call has in flight at once (awaiting their PubAcks). */
const PUBLISH_WINDOW = 256;
/**
 * How long published entries wait to be marked published, so that one statement marks all the entries
 * published meanwhile. The marks are bookkeeping (the relay loop leaves entries younger than 2 s to the process
 * publishing them); marked at once, a lone submit's mark ran beside the worker's claim of its job, on the
 * pickup path.
 */
const MARK_PUBLISHED_AFTER_MS = 50;
/**
 * Most entries a turn of `publishSoon` publishes before the answers are written; a bigger turn (a bulk
 * submit's, or the submits of one group commit when more than this many share it) goes out after them.
 */
const PUBLISH_BEFORE_ANSWER = 64;
/**
 * How many messages a big turn publishes before it lets the event loop serve the rest (the next request among
 * them): a bulk submit's thousand messages and updates, made in one go, held the API for 7-10 ms after its
 * answer (2026-12-07), and the next bulk request waited in its socket meanwhile.
 */
const PUBLISH_SLICE = 64;

/** Until the event loop has read what its sockets hold (the next `setImmediate`). */
const afterIo = () => new Promise<void>((r) => setImmediate(r));

export interface RelayOptions {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
  intervalMs: number;
  /** Jobs untouched this long are checked by the reconciler. */
  reconcileAfterMs: number;
  /** The API's AckWait: the dead-letter recorder's, for a message out of deliveries whose advisory never came. */
  ackWaitMs: number;
}

export interface OutboxRelay {
  /**
   * Publishes committed entries now, before the caller's answer is written; what fails stays for the relay
   * loop, and so does a scheduled job's entry (`notBefore`): the loop publishes it once due. `updates` (the
   * jobs' live updates) go out just before them: in the same socket write, or, in a big turn (more than
   * PUBLISH_BEFORE_ANSWER), before the entries' slices (`publishTurn`).
   */
  publishSoon(entries: OutboxEntry[], updates?: JobUpdateMessage[]): void;
  /** Runs the relay loop soon. */
  wake(): void;
  /** One relay pass (tests, shutdown). */
  runOnce(): Promise<number>;
  /** One reconciler pass. */
  reconcileOnce(): Promise<number>;
  stop(): Promise<void>;
}

export function createOutboxRelay(o: RelayOptions): OutboxRelay {
  const { sql, nats, names, log } = o;
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<unknown> = Promise.resolve();
  let pendingAcks: PublishedEntry[] = [];
  let flushTimer: NodeJS.Timeout | null = null;
  const inFlight = new Set<Promise<unknown>>();
  const publisher = createPublisher(nats.nc);

  async function publishOne(e: OutboxEntry): Promise<PublishedEntry> {
    const pa = await inPublishSpan(e, (traceparent) => publisher.publish(e.subject, encode(e.body), { msgID: e.msgId, traceparent }));
    if (pa.stream === names.notificationsStream) {
      const m = notificationMessageSchema.safeParse(e.body);
      return { id: e.id, seq: null, delivery: m.success ? { id: m.data.deliveryId, requeue: m.data.requeue, seq: pa.seq } : undefined };
    }
    return { id: e.id, seq: pa.stream === names.jobsStream ? pa.seq : null };
  }

  /**
   * Publishes entries (all in flight at once, in windows of PUBLISH_WINDOW); returns the acks. `sliced`: the
   * event loop serves others after every PUBLISH_SLICE publishes.
   */
  async function publishAll(entries: OutboxEntry[], sliced = false): Promise<PublishedEntry[]> {
    const acks: PublishedEntry[] = [];
    for (let i = 0; i < entries.length; i += PUBLISH_WINDOW) {
      const window: Promise<PublishedEntry>[] = [];
      for (const e of entries.slice(i, i + PUBLISH_WINDOW)) {
        if (sliced && window.length && window.length % PUBLISH_SLICE === 0) await afterIo();
        window.push(publishOne(e));
      }
      const results = await Promise.allSettled(window);
      for (const r of results) if (r.status === 'fulfilled') acks.push(r.value);
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        nats.repairIfMissing(failed.reason); // "no stream": the streams are made again
        break; // NATS trouble: the rest waits for the next pass
      }
    }
    return acks;
  }

  /** One flush at a time (concurrent multi-row updates of the same tables could deadlock). */
  let flushing: Promise<void> = Promise.resolve();
  function flushAcks() {
    if (flushTimer) clearTimeout(flushTimer);
    flushTimer = null;
    const acks = pendingAcks.sort((a, b) => a.id - b.id);
    pendingAcks = [];
    flushing = flushing.then(() =>
      markPublished(sql, acks).catch((e) => {
        log.warn({ err: e }, 'outbox: marking entries published failed; the relay will publish them again (deduplicated)');
      }),
    );
    track(flushing);
  }

  function track(p: Promise<unknown>) {
    inFlight.add(p);
    void p.finally(() => inFlight.delete(p));
  }

  async function runOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await withUnpublished(sql, { limit: 500, minAgeMs: 2000, anyAgeSubject: names.notificationSubject }, publishAll);
      total += n;
      if (n < 500) return total;
    }
  }

  const reconcileOnce = createReconciler({ ...o, publishSoon });

  /** Entries handed to publishSoon and not published yet, and the updates that go out just before them. */
  let soon: OutboxEntry[] = [];
  let updatesSoon: JobUpdateMessage[] = [];
  function publishSoon(entries: OutboxEntry[], updates: JobUpdateMessage[] = []) {
    // In the next microtask: before the submit's answer is written (Apollo formats it in later ones), so a
    // worker can claim the job while the answer is on its way, not only once it has been written. The
    // submits one group commit answers resume one after another in the same microtask queue and add their
    // entries first, so they go out together: one NATS socket write for them, not one per submit. (More than
    // PUBLISH_BEFORE_ANSWER of them go out after the answers: `publishTurn`.)
    if (!soon.length && !updatesSoon.length) track(Promise.resolve().then(publishTurn));
    for (const e of entries) if (!e.notBefore) soon.push(e); // a scheduled one waits for the loop (withUnpublished)
    updatesSoon.push(...updates);
  }
  async function publishTurn() {
    // A big turn goes out after its answers are written (the next event-loop turn): its publishes cost the
    // API more than the rest of the answers, and they fill the time the next insert leaves it idle.
    // The updates first (a batch's submissions in one message: `publishUpdates`), then the messages, in
    // slices (PUBLISH_SLICE): each job's QUEUED update goes out before its message, so before the update of
    // the worker that runs it.
    const big = soon.length > PUBLISH_BEFORE_ANSWER || updatesSoon.length > PUBLISH_BEFORE_ANSWER;
    if (big) await afterIo();
    const entries = soon;
    const updates = updatesSoon;
    soon = [];
    updatesSoon = [];
    publishUpdates(nats.nc, names, updates); // a batch's submissions as one message
    const acks = await publishAll(entries, big);
    pendingAcks.push(...acks); // not `pendingAcks.push(...(await …))`: that pushes to the array a flush may have taken meanwhile
    if (!flushTimer && pendingAcks.length) flushTimer = setTimeout(flushAcks, MARK_PUBLISHED_AFTER_MS);
  }

  let ticks = 0;
  function schedule(ms: number) {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      running = (async () => {
        try {
          await requeueDueDeliveries(sql, REQUEUE_BATCH); // their entries are on the notification subject: runOnce takes them
          await runOnce();
          await analyzeIfGrown(sql);
          if (++ticks % 10 === 0) {
            await reconcileOnce();
            await purgePublished(sql, 600_000);
          }
        } catch (e) {
          log.warn({ err: e }, 'outbox relay pass failed; retrying');
        }
      })().finally(() => schedule(o.intervalMs));
    }, ms);
  }
  schedule(o.intervalMs);

  return {
    publishSoon: publishSoon,
    wake() {
      if (timer) {
        clearTimeout(timer);
        schedule(0);
      }
    },
    runOnce,
    reconcileOnce,
    // A pass or a mark stuck on a silent PostgreSQL is left behind after STOP_WAIT_MS: what it had not done,
    // a later relay pass does (a repeated publish is dropped by the dedupe window).
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      const settled = (async () => {
        await running;
        await Promise.allSettled([...inFlight]);
        if (pendingAcks.length || flushTimer) flushAcks();
        await Promise.allSettled([...inFlight]);
      })();
      await orAfter(settled, STOP_WAIT_MS, undefined);
      publisher.close();
    },
  };
}
