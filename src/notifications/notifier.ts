/**
 * The notifier: consumes the notifications stream (durable consumer) and sends each delivery, off the job's
 * critical path. The delivery and its message were made by the job's terminal transition (same statement,
 * published by the outbox relay), so a crash anywhere between "job finished" and "sent" only delays it.
 *
 * Per message: start an attempt in PostgreSQL (a message that may not start one is just acked: the delivery
 * is SENT/FAILED or waiting, or the message is an older one of it; duplicates do nothing), send, then SENT +
 * ack; on failure record the error and when to try again (`next_attempt_at`) and ack: the delivery waits in
 * PostgreSQL, not in JetStream's pending set, until the re-queue pass (outbox relay) publishes its next
 * message. After NOTIFY_MAX_ATTEMPTS (or a permanent refusal) mark it FAILED (dead-lettered, visible in
 * `Job.notifications`) and ack. A message whose receiver uses its share of the slots (`receiver-shares.ts`)
 * waits aside a moment for one of them (the next messages go on meanwhile), or, if none frees up (or the
 * receiver fails, or too many wait), its delivery waits in PostgreSQL the same way, unsent (not an attempt).
 * Only when PostgreSQL cannot be written is a message nak'ed, so JetStream keeps it (and a stopping
 * notifier hands the messages waiting aside back at once), or when this process cannot send it
 * (`HAND_BACKS`).
 */
import type { JsMsg } from '@nats-io/jetstream';
import type { Sql } from '../db/client.js';
import { orAfter } from '../deadline.js';
import { beginDeliveryAttempt, finishDelivery, waitForNextAttempt, type DeliveryAttempt } from '../db/notifications.js';
import { retryDelay } from '../jobs/backoff.js';
import type { BackoffPolicy } from '../jobs/definition.js';
import type { Logger } from '../log.js';
import type { Nats } from '../messaging/connect.js';
import { notificationMessageSchema, parseMessage, type NotificationMessage } from '../messaging/messages.js';
import type { Names } from '../messaging/names.js';
import { handBack, PULL_EXPIRES_MS, pullMessages, type Pull } from '../messaging/pull.js';
import { notificationDeliveries } from '../observability/metrics.js';
import { contextFrom, inSpan, SpanKind, traceparentOf } from '../observability/tracing.js';
import type { Mailer } from './email.js';
import { policyRefusal } from './address-policy.js';
import { receiverOf, receiverShares } from './receiver-shares.js';
import { isDeliveryError, sendWebhook, type WebhookOptions } from './webhook.js';

export interface NotifierOptions {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
  /** Deliveries sent at once. */
  concurrency: number;
  maxAttempts: number;
  backoff: BackoffPolicy;
  /** Absent: webhook deliveries fail (WEBHOOK_SECRET unset). */
  webhook: WebhookOptions | null;
  /** Absent: email deliveries fail (SMTP_URL unset). */
  mailer: Mailer | null;
}

export interface Notifier {
  stop(): Promise<void>;
}

/**
 * Backoff of a message whose handling failed before or after the send (PostgreSQL unreachable): nothing could
 * be recorded, so JetStream keeps the message (nak) and brings it back.
 */
const INFRA_BACKOFF: BackoffPolicy = { baseMs: 1000, factor: 2, maxMs: 30_000, jitter: 0.2 };
/**
 * How many times a notifier whose process cannot send a delivery (no SMTP_URL or WEBHOOK_SECRET here, or a
 * WEBHOOK_ALLOWED_HOSTS / WEBHOOK_ALLOW_PRIVATE that refuses its URL: a rolling deploy that adds or widens one)
 * hands its message back unsent, no attempt used (nak, INFRA_BACKOFF: about 8 minutes in all), for the
 * notifier of a process that can. Each such pull used an attempt that failed for want of the setting (a
 * refused URL at once for good), and the delivery was dead-lettered before a notifier that could send it got
 * it. Past them (no process can: the setting was removed or narrowed everywhere) it is tried and fails.
 */
const HAND_BACKS = 20;

/** The notifier's error for a channel this process has no settings for. */
const NOT_CONFIGURED = { WEBHOOK: 'webhooks are not configured (WEBHOOK_SECRET)', EMAIL: 'email is not configured (SMTP_URL)' } as const;
/**
 * How long a message waits aside for a slot of its receiver's share (a receiver that fails: not at all); long
 * enough for a slow receiver's sends to end and hand their slots over, well inside the consumer's AckWait
 * (at least 20.1 s; the send restarts it).
 */
const TURN_WAIT_MS = 5000;
/**
 * In-progress acks of a message while its delivery is handled. The consumer's AckWait is the
 * WEBHOOK_TIMEOUT_MS + 20 s of whichever process started last (each sets it from its own configuration; a
 * worker process, which has no webhook settings, to 30 s), so it may be shorter than a send: without them
 * the message came back mid-send and the receiver got the delivery twice. AckWait is 20.1 s at the least.
 */
const SEND_BEAT_MS = 5000;
/**
 * Delay of a delivery whose message did not get its turn, by the messages it has had (not attempts): its
 * receiver failing, backing off to 30 s; its receiver busy (healthy, its slots in use) before any send to it
 * went through, at most TURN_WAIT_MS (after that, the end of the receiver's line: `nextInLine`).
 */
const NEXT_TURN_BACKOFF = {
  failing: { baseMs: 1000, factor: 2, maxMs: 30_000, jitter: 0.5 },
  busy: { baseMs: 1000, factor: 2, maxMs: TURN_WAIT_MS, jitter: 0.5 },
} satisfies Record<string, BackoffPolicy>;

const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e)).slice(0, 1000);

export async function startNotifier(o: NotifierOptions): Promise<Notifier> {
  const { sql, log } = o;
  // There at the start (ensureStreams made it), or the start fails.
  await o.nats.jsm.consumers.info(o.names.notificationsStream, o.names.notifierConsumer);
  let stopped = false;
  /** Sends and the PostgreSQL writes of turns not taken, at most `concurrency` at once (the loop waits). */
  const inFlight = new Set<Promise<void>>();
  const shares = receiverShares(o.concurrency);

  function track(work: Promise<unknown>): void {
    const p: Promise<void> = work
      .then(() => {}, (e) => log.warn({ err: e }, 'notifier: handling a message failed'))
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  }

  /** PostgreSQL unreachable (or a bug): nothing was recorded; JetStream brings the message back later. */
  function retryLater(m: JsMsg, e: unknown): null {
    const delay = retryDelay(INFRA_BACKOFF, m.info.deliveryCount);
    log.warn({ err: e, retryInMs: delay }, 'notifier: delivery handling failed; it will be retried');
    m.nak(delay);
    return null;
  }

  function send(d: DeliveryAttempt, traceparent: string | null): Promise<void> {
    if (d.channel === 'WEBHOOK') {
      if (!o.webhook) throw new Error(NOT_CONFIGURED.WEBHOOK);
      return sendWebhook(d, o.webhook, traceparent);
    }
    if (!o.mailer) throw new Error(NOT_CONFIGURED.EMAIL);
    return o.mailer.send(d);
  }

  /** Why this process cannot send the message's delivery (its settings, by the message's channel and target), or null. */
  function cannotSend(msg: NotificationMessage): string | null {
    if (msg.channel === 'EMAIL') return o.mailer ? null : NOT_CONFIGURED.EMAIL;
    if (msg.channel !== 'WEBHOOK') return null; // a message from before the field: found out when sending
    if (!o.webhook) return NOT_CONFIGURED.WEBHOOK;
    return URL.canParse(msg.target ?? '') ? policyRefusal(new URL(msg.target!), o.webhook.policy) : null;
  }

  /**
   * Messages waiting aside for a slot of their receiver's share, each at most TURN_WAIT_MS, oldest first;
   * the loop goes on with the next message meanwhile, so another receiver's delivery is not held behind
   * them. A send to the receiver that ends hands its slot to the first of them.
   */
  type Waiting = { m: JsMsg; msg: NotificationMessage; timer: NodeJS.Timeout };
  const waiting = new Map<string, Waiting[]>();
  let waitingCount = 0;

  /**
   * The message did not get its turn: its delivery waits in PostgreSQL to come round later (not an attempt):
   * a busy receiver's at the end of its line (`nextInLine`), once its pace is known.
   */
  function nextTurn(m: JsMsg, msg: NotificationMessage, receiver: string, why: 'failing' | 'busy'): void {
    const inLine = why === 'busy' ? shares.nextInLine(receiver, Date.now()) : null;
    const delayMs = inLine ?? retryDelay(NEXT_TURN_BACKOFF[why], msg.requeue + m.info.deliveryCount);
    track(waitForNextAttempt(sql, { id: msg.deliveryId, requeue: msg.requeue, delayMs }).then(() => m.ack(), (e) => void retryLater(m, e)));
  }

  function wait(receiver: string, m: JsMsg, msg: NotificationMessage): void {
    const queue = waiting.get(receiver) ?? [];
    const entry: Waiting = { m, msg, timer: setTimeout(() => (unwait(receiver, entry), nextTurn(m, msg, receiver, 'busy')), TURN_WAIT_MS) };
    queue.push(entry);
    waiting.set(receiver, queue);
    waitingCount++;
  }

  function unwait(receiver: string, entry: Waiting): void {
    const queue = waiting.get(receiver)!;
    queue.splice(queue.indexOf(entry), 1);
    if (!queue.length) waiting.delete(receiver);
    waitingCount--;
    clearTimeout(entry.timer);
  }

  /** Starts a delivery in a slot of the receiver's share (taken); the slot goes to a waiting message after. */
  function start(m: JsMsg, msg: NotificationMessage, receiver: string | null): void {
    const began = Date.now();
    track(deliver(m, msg)
      .catch((e) => retryLater(m, e))
      .then((sent) => {
        if (!receiver) return;
        shares.release(receiver, sent, Date.now() - began);
        if (shares.failing(receiver)) {
          for (const e of [...(waiting.get(receiver) ?? [])]) (unwait(receiver, e), nextTurn(e.m, e.msg, receiver, 'failing')); // no wait for it
          return;
        }
        const next = waiting.get(receiver)?.[0];
        if (next && !stopped && shares.take(receiver)) {
          unwait(receiver, next);
          start(next.m, next.msg, receiver); // in the slot this send leaves: the global count stays the same
        }
      }));
  }

  /**
   * Sends one delivery; resolves whether the send went through (null: nothing was sent). Its message gets
   * in-progress acks until then (SEND_BEAT_MS), starting now: it may have waited for a free slot.
   */
  async function deliver(m: JsMsg, msg: NotificationMessage): Promise<boolean | null> {
    m.working();
    const beats = setInterval(() => m.working(), SEND_BEAT_MS);
    try {
      return await sendOnce(m, msg);
    } finally {
      clearInterval(beats);
    }
  }

  async function sendOnce(m: JsMsg, msg: NotificationMessage): Promise<boolean | null> {
    const d = await beginDeliveryAttempt(sql, { id: msg.deliveryId, requeue: msg.requeue });
    // Already SENT or FAILED, waiting for its next attempt, an older message of it (a duplicate), or its job
    // was deleted: nothing to do.
    if (!d) return (m.ack(), null);
    const dlog = log.child({ deliveryId: d.id, jobId: d.jobId, channel: d.channel, attempt: d.attempts });
    const channel = d.channel.toLowerCase();
    if (d.attempts > o.maxAttempts) {
      // Its last attempt's notifier died mid-send: the attempts are used up (this one, begun above, is not made).
      await finishDelivery(sql, { id: d.id, status: 'FAILED', error: d.lastError ?? 'attempts used up', unsent: true });
      notificationDeliveries.inc({ channel, outcome: 'failed' });
      dlog.warn('notification dead-lettered: attempts used up');
      return (m.ack(), null);
    }
    const parent = contextFrom(m.headers?.get('traceparent') || null);
    try {
      await inSpan('longrun.notify', parent, { 'longrun.delivery_id': d.id, 'longrun.channel': channel, 'longrun.attempt': d.attempts },
        (span) => send(d, traceparentOf(span, m.headers?.get('traceparent') || null)), SpanKind.CLIENT);
    } catch (e) {
      const error = errorText(e);
      if ((isDeliveryError(e) && e.permanent) || d.attempts >= o.maxAttempts) {
        await finishDelivery(sql, { id: d.id, status: 'FAILED', error });
        notificationDeliveries.inc({ channel, outcome: 'failed' });
        dlog.warn({ error }, 'notification dead-lettered');
        m.ack();
        return false;
      }
      // Not sooner than the receiver asked (Retry-After), nor later than the longest backoff.
      const asked = isDeliveryError(e) && e.retryAfterMs !== undefined ? Math.min(e.retryAfterMs, o.backoff.maxMs) : 0;
      const delay = Math.max(retryDelay(o.backoff, d.attempts), asked);
      await waitForNextAttempt(sql, { id: d.id, requeue: msg.requeue, delayMs: delay, error });
      notificationDeliveries.inc({ channel, outcome: 'retried' });
      dlog.info({ error, retryInMs: delay }, 'notification attempt failed; retrying');
      m.ack(); // the next attempt waits in PostgreSQL: the re-queue pass publishes its message when due
      return false;
    }
    await finishDelivery(sql, { id: d.id, status: 'SENT' });
    notificationDeliveries.inc({ channel, outcome: 'sent' });
    dlog.info('notification sent');
    m.ack();
    return true;
  }

  /** The pull out (or the last one): hand-backs wait until it has ended (`handBack`). */
  let pull: Pull | null = null;
  const loop = (async () => {
    while (!stopped) {
      try {
        // Pulls only as many messages as there are free slots, so each is handled as it comes: a message
        // pulled ahead, held behind busy slots with no in-progress ack, came back once held past the AckWait
        // (30 s, a worker process's), and both copies were sent.
        while (inFlight.size >= o.concurrency) await Promise.race(inFlight);
        if (stopped) break; // no new messages once stopping
        // Not closed by a stop: it ends when the server has ended it (`pullMessages`: PULL_EXPIRES_MS after the
        // server had it, and the round trip that tells), what it brings then handed back. The stop waits for it
        // PULL_EXPIRES_MS + 2 s at most.
        pull = pullMessages(o.nats.nc, o.names.notificationsStream, o.names.notifierConsumer, o.concurrency - inFlight.size);
        for await (const m of pull.messages) {
          if (stopped) {
            handBack(m, pull);
            continue;
          }
          const msg = parseMessage(notificationMessageSchema, m.data);
          if (!msg) {
            log.warn({ subject: m.subject, seq: m.seq }, 'notifier: malformed message; acked and dropped');
            m.ack();
            continue;
          }
          const cannot = m.info.deliveryCount <= HAND_BACKS ? cannotSend(msg) : null;
          if (cannot) {
            log.debug({ deliveryId: msg.deliveryId, channel: msg.channel, cannot }, 'notifier: this process cannot send it; handed back');
            m.nak(retryDelay(INFRA_BACKOFF, m.info.deliveryCount));
            continue;
          }
          const receiver = receiverOf(msg);
          if (!receiver || shares.take(receiver)) start(m, msg, receiver);
          else if (shares.failing(receiver)) nextTurn(m, msg, receiver, 'failing');
          else if (waitingCount >= o.concurrency) nextTurn(m, msg, receiver, 'busy');
          else wait(receiver, m, msg);
        }
      } catch (e) {
        if (!stopped) log.warn({ err: e }, 'notifier: consumer failed; restarting');
        o.nats.repairIfMissing(e); // its consumer or stream gone: made again
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  return {
    async stop() {
      stopped = true;
      for (const [receiver, queue] of waiting) for (const e of [...queue]) (unwait(receiver, e), handBack(e.m, pull));
      await orAfter(loop, PULL_EXPIRES_MS + 2000, undefined); // the timer is cleared when the loop ends first
      await Promise.allSettled([...inFlight]);
      o.mailer?.close();
    },
  };
}
