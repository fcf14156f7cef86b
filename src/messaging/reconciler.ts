/**
 * The reconciler: re-queues the jobs and notification deliveries whose message JetStream no longer has (a
 * power loss on a 2.9 server, a purged stream, a stream made again after nats-server lost its store). The
 * relay loop runs a pass every tenth relay pass (outbox-relay.ts); each checks up to RECONCILE_BATCH rows of
 * each kind, untouched for `reconcileAfterMs` (or since their stream was made), against the stream.
 */
import type { ConsumerInfo } from '@nats-io/jetstream';
import type { Sql } from '../db/client.js';
import { findStaleDeliveries, requeueLostDelivery } from '../db/notifications.js';
import type { OutboxEntry } from '../db/outbox.js';
import type { JobRow } from '../db/schema.js';
import { findStaleJobs, requeueMessage, type StaleCursor } from '../db/stale-jobs.js';
import type { Logger } from '../log.js';
import type { Nats } from './connect.js';
import { handleAdvisory } from './dead-letter-recorder.js';
import { jobIdIn, notificationMessageSchema, parseMessage } from './messages.js';
import type { Names } from './names.js';

/** Stale jobs (and deliveries) one reconciler pass checks against the stream at most; the next goes on. */
const RECONCILE_BATCH = 200;

export interface ReconcilerOptions {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
  /** Jobs and deliveries untouched this long are checked. */
  reconcileAfterMs: number;
  /** The API's AckWait: the dead-letter recorder's, for a message out of deliveries whose advisory never came. */
  ackWaitMs: number;
  /** Publishes a job's fresh message now (the relay's `publishSoon`). */
  publishSoon(entries: OutboxEntry[]): void;
}

/** One reconciler pass per call: answers how many jobs and deliveries it re-queued. */
export function createReconciler(o: ReconcilerOptions): () => Promise<number> {
  const { sql, nats, names, log, publishSoon } = o;

  /**
   * Whether JetStream no longer has the row's message at `seq` (null: not known); undefined: NATS unreachable.
   * A message of another job or delivery there (`ours` says no) counts as gone: the stream was deleted and
   * made again, and its sequences started over.
   */
  async function messageGone(stream: string, seq: number | null, ours: (data: Uint8Array) => boolean): Promise<boolean | undefined> {
    if (seq === null) return true;
    const msg = await nats.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    return msg === undefined ? undefined : msg === null || !ours(msg.data);
  }

  /**
   * Where the last pass left off in each list: the next goes on from there (and from the start again once a
   * pass reached the end), so that a backlog of waiting jobs older than `reconcileAfterMs`, whose messages are
   * there, does not hide a lost one behind it.
   */
  const cursors: { jobs: StaleCursor | null; deliveries: StaleCursor | null } = { jobs: null, deliveries: null };
  const cursorAfter = (rows: readonly StaleCursor[]): StaleCursor | null => {
    const last = rows.length === RECONCILE_BATCH ? rows.at(-1)! : null;
    return last && { cursorAt: last.cursorAt, id: last.id };
  };

  /**
   * Checks each stale row's message against `stream` and hands those whose message is gone to `requeue`
   * (which answers whether it re-queued it); stops when NATS does not answer (the rest waits for a later pass).
   */
  async function requeueLost<T extends { id: string; messageSeq: number | null }>(
    rows: readonly T[],
    stream: string,
    idIn: (data: Uint8Array) => string | undefined,
    requeue: (row: T) => Promise<boolean>,
    there?: (row: T & { messageSeq: number }) => Promise<void>,
  ): Promise<{ requeued: number; reachable: boolean }> {
    let requeued = 0;
    for (const row of rows) {
      const gone = await messageGone(stream, row.messageSeq, (data) => idIn(data)?.toLowerCase() === row.id.toLowerCase());
      if (gone === undefined) return { requeued, reachable: false };
      if (gone && (await requeue(row))) requeued++;
      else if (!gone) await there?.(row as T & { messageSeq: number }); // the message is there: most times it is just waiting
    }
    return { requeued, reachable: true };
  }

  /**
   * A waiting job whose message is there, but out of deliveries: JetStream gave up on it and its MAX_DELIVERIES
   * advisory never reached the recorder (the advisory stream deleted or purged, or unable to store it then),
   * so nothing would ever fail or re-queue the job. Handled as that advisory would have been, dated now. On
   * 2.9.10 such a message stays in the work queue, neither pending nor delivered again (shared notes): it is
   * told from one still to be delivered again by the type's consumer having delivered it (its sequence at or
   * below the consumer's delivered one) and holding no message pending. With any message of the type pending
   * (a retry waiting out its backoff, a job running), nothing can be told: the job waits for a quieter pass.
   * `consumers`: the pass's reads of the consumers, one per type.
   */
  async function outOfDeliveries(job: JobRow & { messageSeq: number }, consumers: Map<string, Promise<ConsumerInfo | null>>): Promise<void> {
    if (job.state !== 'QUEUED' && job.state !== 'RETRYING') return; // a RUNNING one is the recorder's sweep's
    const name = names.workerConsumer(job.type);
    if (!consumers.has(name)) consumers.set(name, nats.jsm.consumers.info(names.jobsStream, name).catch(() => null));
    const c = await consumers.get(name)!;
    if (!c || c.num_ack_pending > 0 || c.delivered.stream_seq < job.messageSeq) return;
    // Still there after that read: not acked meanwhile, so not pending then either.
    if (!(await nats.jsm.streams.getMessage(names.jobsStream, { seq: job.messageSeq }).catch(() => null))) return;
    log.warn({ jobId: job.id, state: job.state, seq: job.messageSeq }, 'reconciler: the job\'s message is out of deliveries and no advisory was recorded; handled as its advisory');
    const advisory = {
      type: 'io.nats.jetstream.advisory.v1.max_deliver' as const,
      stream: names.jobsStream,
      consumer: name,
      stream_seq: job.messageSeq,
      deliveries: c.config.max_deliver ?? 0,
      timestamp: new Date().toISOString(),
    };
    await handleAdvisory({ sql, nats, names, log }, advisory, { ackWaitMs: o.ackWaitMs });
  }

  /**
   * How long a job or delivery must have been untouched for a pass to check it: `reconcileAfterMs`, or less
   * when its `stream` is younger than that (made again: nats-server lost its store, or it was deleted; see
   * stream-repair.ts). Every message from before it went with the old stream, so the rows untouched since it was
   * made are checked at once rather than `reconcileAfterMs` later (five minutes by default). Its age is by
   * nats-server's clock against this machine's: a skew only moves which rows of those few seconds wait for the
   * usual age, and checking a row whose message is there leaves it alone.
   */
  async function checkAfterMs(stream: string): Promise<number> {
    const info = await nats.jsm.streams.info(stream).catch(() => null);
    const age = info ? Date.now() - Date.parse(info.created) : NaN;
    return Number.isNaN(age) ? o.reconcileAfterMs : Math.max(0, Math.min(o.reconcileAfterMs, age));
  }

  /**
   * Re-queues the jobs whose message JetStream lost, then makes the notification deliveries whose message it
   * lost due for the re-queue pass (a stale one whose message is still there waits behind a backlog).
   */
  async function reconcileOnce(): Promise<number> {
    const jobs = await findStaleJobs(sql, await checkAfterMs(names.jobsStream), RECONCILE_BATCH, cursors.jobs);
    const jobsFrom = cursors.jobs;
    cursors.jobs = cursorAfter(jobs);
    const consumers = new Map<string, Promise<ConsumerInfo | null>>();
    const j = await requeueLost(
      jobs,
      names.jobsStream,
      jobIdIn,
      async (job) => {
        publishSoon([await requeueMessage(sql, job, names.jobSubject(job.type))]);
        log.warn({ jobId: job.id, state: job.state }, 'reconciler: the job had no message in JetStream; re-queued it');
        return true;
      },
      (job) => outOfDeliveries(job, consumers),
    );
    // NATS did not answer: the batch, unchecked (the rest of it), is the next pass's again, not gone past.
    if (!j.reachable) {
      cursors.jobs = jobsFrom;
      return j.requeued;
    }
    const deliveries = await findStaleDeliveries(sql, await checkAfterMs(names.notificationsStream), RECONCILE_BATCH, cursors.deliveries);
    const deliveriesFrom = cursors.deliveries;
    cursors.deliveries = cursorAfter(deliveries);
    const deliveryIdIn = (data: Uint8Array) => parseMessage(notificationMessageSchema, data)?.deliveryId;
    const d = await requeueLost(deliveries, names.notificationsStream, deliveryIdIn, async (delivery) => {
      if (!(await requeueLostDelivery(sql, delivery))) return false; // touched meanwhile
      log.warn({ deliveryId: delivery.id }, 'reconciler: the notification delivery had no message in JetStream; re-queued it');
      return true;
    });
    if (!d.reachable) cursors.deliveries = deliveriesFrom;
    return j.requeued + d.requeued;
  }

  return reconcileOnce;
}
