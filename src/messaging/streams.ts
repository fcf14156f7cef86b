/**
 * Declares the streams and durable consumers (explicit AckWait and max-deliver, never the defaults) and
 * ensures they exist with this configuration at start-up. The advisory stream is created before the work
 * consumers, so no max-deliveries advisory is missed.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type Consumer,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamManager,
  type JsMsg,
  type StreamConfig,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { JobType } from '../jobs/definition.js';
import { typeOfToken, type Names } from './names.js';

export interface StreamSettings {
  ackWaitMs: number;
  duplicateWindowMs: number;
  /**
   * How long one notification send may take before its message is redelivered: given by the processes that
   * run the notifier (API processes, from their WEBHOOK_TIMEOUT_MS), which alone set up its consumer. A
   * worker process, which sends nothing, leaves it alone: it set its AckWait back to 30 s from its own
   * default, shorter than the API's sends, and their messages came again while still being sent.
   */
  notifyAckWaitMs?: number;
}

export function streamConfigs(n: Names, s: StreamSettings): (Partial<StreamConfig> & { name: string })[] {
  const day = 86_400_000;
  return [
    {
      name: n.advisoryStream,
      subjects: n.advisorySubjects,
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      max_age: nanos(7 * day),
    },
    {
      name: n.deadLetterStream,
      subjects: [n.deadLetterPattern],
      retention: RetentionPolicy.Limits,
      storage: StorageType.File,
      duplicate_window: nanos(s.duplicateWindowMs),
    },
    {
      name: n.jobsStream,
      subjects: [`${n.prefix}jobs.>`],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      duplicate_window: nanos(s.duplicateWindowMs),
    },
    {
      name: n.notificationsStream,
      subjects: [n.notificationSubject],
      retention: RetentionPolicy.Workqueue,
      storage: StorageType.File,
      duplicate_window: nanos(s.duplicateWindowMs),
    },
  ];
}

/**
 * A job type's consumer. Max-ack-pending: a job waiting out its backoff keeps its message un-acked (nak'ed
 * with the delay), so the limit is how many jobs of a type may wait for a retry at once before the type's
 * other jobs, new ones included, wait too. 20,000 stopped a type after a downstream outage with a long
 * backoff. nats-server keeps a small record per un-acked message, so a million is only reached in memory by a
 * million jobs actually waiting.
 */
export const MAX_WAITING_RETRIES = 1_000_000;

/**
 * How long one pull request (`fetch`) of a worker, the notifier or the dead-letter recorder waits on the
 * server for messages. A stopping process does not close the pull it has out: the server cannot be asked to
 * withdraw a pull request, and messages it is sending that moment would reach no one, unacked until the
 * AckWait ran out (verified on 2.9.10: dozens of a burst). It lets the pull end by itself, within this long,
 * handing back what it brings for once it has ended (`handBack`); short, so a stop is not held up long. An idle worker pulls again this
 * often per job type.
 */
export const PULL_EXPIRES_MS = 1000;

/** How much later than its sender reckons a pull request may end on the server (which counts from receipt). */
const PULL_END_MARGIN_MS = 200;

/** When a pull request sent now has ended on the server, at the latest. */
const pullEndsAt = (): number => Date.now() + PULL_EXPIRES_MS + PULL_END_MARGIN_MS;

/**
 * How long a message handed back stays out of reach of `pull` (the process's last): until that pull has
 * surely ended on the server (`Pull.pullEnd`); 0 once it has, or with no pull yet. A stopping or paused process leaves its pull out until it ends by
 * itself, and a message nak'ed for immediate redelivery came straight back into that pull, over and over up
 * to its size, each delivery counted against the consumer's max-deliver (10 deliveries of one job in one
 * worker's stop).
 */
export const untilPullEnd = (pull: Pull | null): number => (pull ? Math.max(0, pull.pullEnd - Date.now()) : 0);

/** Hands a message back (nak) to be redelivered once `pull` has ended (`untilPullEnd`). */
export function handBack(m: JsMsg, pull: Pull | null): void {
  m.nak(untilPullEnd(pull));
}

/** One pull request: its messages as they come, and when it has surely ended on the server. */
export interface Pull {
  messages: ConsumerMessages;
  /**
   * When the pull has ended on the server at the latest (`pullEndsAt`): reckoned from the fetch call at first,
   * and from when nats.js wrote the request once it has (later if the event loop was busy in between).
   */
  pullEnd: number;
}

/**
 * Sends a pull request for up to `max` messages, which the server ends within PULL_EXPIRES_MS. Its messages
 * end here once the server has surely ended it (`pullEnd`). On 2.9.10 a pull that expired while messages were
 * still coming for it now and then got no 408 (Request Timeout) status: the server delivered nothing more to
 * it, and nats.js waited for two missed heartbeats (a second) and then failed the fetch, while the consumer had
 * no pull out and its messages waited (the bench's pickup at 200 jobs/s, about one run in eight: every job of
 * the run started up to 2 s late, the loop's pause after a failed pull included).
 *
 * nats.js writes the request only when the messages are first iterated, and says so ("next" status, seen
 * here after its write). Timed from the fetch call instead, a handler that kept the event loop busy before
 * the request was written would have the pull stopped before the server even had it, and what it then sent
 * would be dropped, back only after the AckWait. For the same reason the stop runs from setImmediate, after
 * the event loop has read its sockets: a message sent before the end, unread because the loop was busy,
 * still reaches the pull.
 */
export async function pullMessages(consumer: Consumer, max: number): Promise<Pull> {
  const messages = await consumer.fetch({ max_messages: max, expires: PULL_EXPIRES_MS });
  const pull: Pull = { messages, pullEnd: pullEndsAt() };
  let ended = false;
  let lapse: NodeJS.Timeout | undefined;
  const end = () => {
    ended = true;
    clearTimeout(lapse);
  };
  void messages.closed().then(end, end);
  void requestWritten(messages).then((written) => {
    if (!written || ended) return;
    pull.pullEnd = Math.max(pull.pullEnd, pullEndsAt());
    lapse = setTimeout(() => setImmediate(() => messages.stop()), pull.pullEnd - Date.now());
  });
  return pull;
}

/** Resolves once nats.js has written this fetch's pull request (true), or the fetch ended first (false). */
async function requestWritten(messages: ConsumerMessages): Promise<boolean> {
  for await (const s of messages.status()) if (s.type === 'next') return true;
  return false;
}

export function workerConsumerConfig(n: Names, t: JobType, s: StreamSettings): Partial<ConsumerConfig> {
  return {
    durable_name: n.workerConsumer(t.name),
    filter_subject: n.jobSubject(t.name),
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(s.ackWaitMs),
    max_deliver: t.maxDeliver,
    max_ack_pending: MAX_WAITING_RETRIES,
    max_waiting: 512,
    deliver_policy: DeliverPolicy.All,
  };
}

export function advisoryConsumerConfig(n: Names): Partial<ConsumerConfig> {
  return {
    durable_name: n.advisoryConsumer,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(30_000),
    max_deliver: -1,
    // An advisory about a job a live worker still holds waits (nak'ed with a delay) until that job ends: at the
    // server's default of 1,000 pending, a NATS partition cutting off that many running jobs' workers would
    // keep every later advisory (the real dead letters) from the recorders until they end.
    max_ack_pending: MAX_WAITING_RETRIES,
    deliver_policy: DeliverPolicy.All,
  };
}

/**
 * The notifier's consumer. Max-deliver is explicitly unlimited: a delivery's send attempts are counted in
 * PostgreSQL, where the notifier dead-letters it after NOTIFY_MAX_ATTEMPTS, so JetStream must never give up
 * on a message by itself (a PostgreSQL outage makes the notifier nak without sending; a finite limit would
 * strand those deliveries as PENDING).
 *
 * Max-ack-pending: a delivery waiting for a later try waits in PostgreSQL and its message is acked, so the
 * pending set holds only messages in hand: waiting aside for a slot or being sent (the notifier pulls no more
 * than it has free slots: at most twice NOTIFIER_CONCURRENCY per API process), and during a PostgreSQL
 * outage the nak'ed ones. The limit no longer holds anyone's queue, so it is not lowered: a lower one would
 * only throttle many API processes at a high NOTIFIER_CONCURRENCY (up to 1,000 each), and in an outage
 * nothing can be sent anyway.
 */
export function notifierConsumerConfig(n: Names, notifyAckWaitMs: number): Partial<ConsumerConfig> {
  return {
    durable_name: n.notifierConsumer,
    filter_subject: n.notificationSubject,
    ack_policy: AckPolicy.Explicit,
    ack_wait: nanos(notifyAckWaitMs),
    max_deliver: -1,
    max_ack_pending: 10_000,
    deliver_policy: DeliverPolicy.All,
  };
}

const notFound = (e: unknown) => e instanceof JetStreamApiError && [10059, 10014].includes(e.code);

/**
 * Why a type's worker consumer cannot be used: its durable name (the type's name with `.` as `_`) is another
 * type's, whose subject it filters (`acme.report` and `acme_report` are both `worker_acme_report`). Taking it
 * over would leave this type's jobs undelivered and hand its workers the other type's jobs.
 */
function consumerTakenMessage(n: Names, cfg: Partial<ConsumerConfig>, theirs: string | undefined, types: readonly JobType[]): string {
  const ours = types.find((t) => n.jobSubject(t.name) === cfg.filter_subject)?.name ?? cfg.filter_subject;
  const other = theirs === undefined ? '(none)' : typeOfToken(theirs.slice(theirs.lastIndexOf('.') + 1)); // a job subject's last token
  return (
    `job type "${ours}" needs the worker consumer ${cfg.durable_name}, which is job type "${other}"'s (its subject is ${theirs ?? 'none'}): ` +
    `type names that differ only by "." and "_" cannot both be used; rename one of them`
  );
}

/** Creates or updates every stream and consumer. Idempotent; safe from several processes at once. */
export async function ensureStreams(
  jsm: JetStreamManager,
  n: Names,
  types: readonly JobType[],
  s: StreamSettings,
): Promise<void> {
  for (const cfg of streamConfigs(n, s)) {
    try {
      await jsm.streams.info(cfg.name);
      await jsm.streams.update(cfg.name, cfg);
    } catch (e) {
      if (!notFound(e)) throw e;
      await jsm.streams.add(cfg).catch(async (err) => {
        if (!(err instanceof JetStreamApiError)) throw err;
        await jsm.streams.update(cfg.name, cfg); // created meanwhile by another process
      });
    }
  }
  const consumers: [string, Partial<ConsumerConfig>][] = [
    [n.advisoryStream, advisoryConsumerConfig(n)],
    ...(s.notifyAckWaitMs === undefined ? [] : [[n.notificationsStream, notifierConsumerConfig(n, s.notifyAckWaitMs)] as [string, Partial<ConsumerConfig>]]),
    ...types.map((t): [string, Partial<ConsumerConfig>] => [n.jobsStream, workerConsumerConfig(n, t, s)]),
  ];
  for (const [stream, cfg] of consumers) {
    try {
      const existing = await jsm.consumers.info(stream, cfg.durable_name!);
      if (cfg.filter_subject !== undefined && existing.config.filter_subject !== cfg.filter_subject) {
        throw new Error(consumerTakenMessage(n, cfg, existing.config.filter_subject, types));
      }
      const { durable_name: _d, deliver_policy: _p, filter_subject: _f, ...mutable } = cfg;
      await jsm.consumers.update(stream, cfg.durable_name!, mutable);
    } catch (e) {
      if (!notFound(e)) throw e;
      await jsm.consumers.add(stream, cfg);
    }
  }
}
