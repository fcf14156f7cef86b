/**
 * Declares the streams and durable consumers (explicit AckWait and max-deliver, never the defaults) and
 * ensures they exist with this configuration at start-up. The advisory stream is created before the work
 * consumers, so no max-deliveries advisory is missed.
 */
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiCodes,
  JetStreamApiError,
  RetentionPolicy,
  StorageType,
  type ConsumerConfig,
  type JetStreamManager,
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

/**
 * The answer to adding a stream whose name is taken with other settings. Only that one means "made meanwhile":
 * any other refusal (its subjects overlap another stream's, no storage left) is the error to report, not an
 * update's StreamNotFound after it.
 */
const STREAM_NAME_IN_USE = 10058;

/** Whether a JetStream API call (a stream's or consumer's info) was refused: no such stream or consumer. */
export const isNotFound = (e: unknown): boolean =>
  e instanceof JetStreamApiError && (e.code === JetStreamApiCodes.StreamNotFound || e.code === JetStreamApiCodes.ConsumerNotFound);

/** A failed add of a stream as the start reports it: the server's reason and, when it gave one, its code. */
const cannotCreate = (name: string, err: unknown): Error =>
  new Error(
    `cannot create stream ${name}: ${err instanceof Error ? err.message : String(err)}${err instanceof JetStreamApiError ? ` (JetStream error ${err.code})` : ''}`,
    { cause: err },
  );

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
      if (!isNotFound(e)) throw e;
      await jsm.streams.add(cfg).catch(async (err) => {
        // Created meanwhile by another process with other settings (with the same ones the add succeeds).
        if (err instanceof JetStreamApiError && err.code === STREAM_NAME_IN_USE) return await jsm.streams.update(cfg.name, cfg);
        throw cannotCreate(cfg.name, err);
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
      if (!isNotFound(e)) throw e;
      await jsm.consumers.add(stream, cfg);
    }
  }
}
