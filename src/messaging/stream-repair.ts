/**
 * Makes the streams and consumers again while a process runs. They are ensured at start (`ensureStreams`);
 * nats-server can lose them afterwards: restarted on an empty store (its disk lost, a new server in its place),
 * or an operator deleting a stream or consumer (or changing a stream's subjects). A pull then gets no answer, a
 * publish is answered "no stream" (the outbox's) or no responders (a dead-letter copy's, by `js.publish`) and a
 * read of a stream "stream not found" (a dead-letter copy's); each such failure is handed here
 * (`Nats.repairIfMissing`), and the streams and consumers are ensured again, as at start, at most once per
 * REPAIR_GAP_MS, without restarting the process. The jobs and notification deliveries whose messages went
 * with them are re-queued by the reconciler (reconciler.ts).
 */
import { RequestError } from '@nats-io/nats-core';
import type { Logger } from '../log.js';
import { isNoStream } from './publisher.js';
import { isConsumerMissing } from './pull.js';
import { isNotFound } from './streams.js';

/** The shortest time between two repairs of one process (its pulls and publishes fail every second meanwhile). */
export const REPAIR_GAP_MS = 5000;

/**
 * Whether a `js.publish` had no responder: no stream takes its subject (the stream deleted, or its subjects
 * changed). nats.js v3 throws it as `JetStreamNotEnabled` ("jetstream is not enabled", not exported), its cause
 * the request's no-responders `RequestError`. JetStream really off looks the same: then the repair fails, and
 * is tried again on a failure REPAIR_GAP_MS later.
 */
const isNoResponders = (e: unknown): boolean => e instanceof Error && e.cause instanceof RequestError && e.cause.isNoResponders();

/** Whether a failed pull, publish or JetStream API call says a stream or consumer is not there. */
const isMissingStreamOrConsumer = (e: unknown): boolean => isConsumerMissing(e) || isNoStream(e) || isNoResponders(e) || isNotFound(e);

/**
 * `ensure` again when handed a failure that says a stream or consumer is missing: one at a time, and not within
 * REPAIR_GAP_MS of the last one's start (a failed repair is tried again on the next failure after that).
 */
export function createStreamRepair(ensure: () => Promise<void>, log: Logger): (failure: unknown) => void {
  let lastAt = -Infinity;
  let running = false;
  return (failure) => {
    if (running || !isMissingStreamOrConsumer(failure) || Date.now() - lastAt < REPAIR_GAP_MS) return;
    running = true;
    lastAt = Date.now();
    log.warn({ err: failure }, 'a JetStream stream or consumer is missing (nats-server lost its store, or it was deleted): making them again');
    ensure()
      .then(
        () => log.warn('JetStream streams and consumers made again'),
        (e: unknown) => log.warn({ err: e }, `making the JetStream streams and consumers again failed; tried again in ${REPAIR_GAP_MS} ms at the earliest`),
      )
      .finally(() => (running = false));
  };
}
