/**
 * The jobs a worker pool holds (claimed: waiting in the local queue, running, or writing their outcome),
 * what keeps them alive and what stops them:
 * - heartbeats: every held job's message gets an in-progress ack and its lease is renewed every AckWait/3
 *   (`beatMs`; between 3/4 of that and that apart), from one timer for the whole pool that ticks four times
 *   per `beatMs`. The leases due in a tick are renewed in one statement (PostgreSQL down: the in-progress
 *   acks still hold the messages, and the next beat tries again); a lost lease or a cancel request in the
 *   answer aborts the attempt. AckWait is the smaller of this process's ACK_WAIT_MS and its consumers'
 *   AckWait, re-read every `beatMs` (1 to 5 s) while it holds jobs: a process started since with a shorter
 *   ACK_WAIT_MS (a rolling upgrade) sets the consumers to it, and in-progress acks at the old pace would
 *   let every running job be redelivered over and over, until JetStream gives up on it (dead-lettered while
 *   it runs).
 * - a blocked event loop: heartbeats cannot run while a handler computes without awaiting. A tick that comes
 *   more than `beatMs` late logs a warning naming the jobs held then: past AckWait, JetStream redelivers
 *   their messages and another worker may claim them (their leases ran out too) while they still run here.
 * - cancel requests (core NATS, one subject per job): abort the held attempt at once. One that arrives while
 *   a claim of that job is on its way back (the job is RUNNING in PostgreSQL, not held here yet) is kept
 *   for every claim of it under way, and aborts the attempt of the one that won once it is held (also when
 *   an earlier attempt of the job is still held here: the claim takes the job over if it won).
 * - the dead-letter sweep's question (core NATS, one subject per job) before it fails a last attempt whose
 *   lease ran out: answered while that attempt is held here. Cut off from PostgreSQL, this process cannot
 *   renew the lease, but its in-progress acks keep the message and it writes the outcome once PostgreSQL
 *   answers again; the sweep leaves the job to it. So does a claim of the job under way here: its answer lost
 *   (the connection dropped after the commit), the attempt asked about may be its own.
 * - messages not held yet: a delivery whose claim (or, unclaimed, the read of its job) waits for PostgreSQL
 *   gets the same in-progress acks (`keep`). Without them JetStream redelivers it every AckWait while
 *   PostgreSQL is down, each delivery counting against the type's max-deliver: a long enough outage would
 *   dead-letter the job without it ever running.
 */
import type { Subscription } from '@nats-io/nats-core';
import type { JsMsg } from '@nats-io/jetstream';
import type { Sql } from '../src/db/client.js';
import type { Logger } from '../src/log.js';
import { renewLeases } from '../src/db/attempts.js';
import type { JobRow } from '../src/db/schema.js';
import type { Nats } from '../src/messaging/connect.js';
import { heldAttemptBody } from '../src/messaging/messages.js';
import type { Names } from '../src/messaging/names.js';
import type { Attempt } from './attempt.js';

export interface HeldJobs {
  /** Held attempts by job id. */
  readonly attempts: ReadonlyMap<string, Attempt>;
  /**
   * Runs the claim of job `id`; answers the claimed job (null: not claimed) and whether a cancel request
   * for it arrived while the claim was on its way.
   */
  claim(id: string, m: JsMsg, claim: () => Promise<JobRow | null>): Promise<{ job: JobRow | null; cancelled: boolean }>;
  /** Runs `fn`, a step of delivery `m` before its attempt is held, keeping `m` with in-progress acks meanwhile. */
  keep<T>(m: JsMsg, fn: () => Promise<T>): Promise<T>;
  /**
   * Holds a claimed attempt. An earlier attempt of the same job still held here (its lease ran out and this
   * process claimed the job again) is not the job's any more: it is aborted as lost.
   */
  hold(attempt: Attempt): void;
  /** Lets go of an attempt (not of a newer attempt of its job held since). */
  release(attempt: Attempt): void;
  /** Stops the heartbeats and the cancel subscription. */
  close(): void;
}

/** Longest gap between two readings of the consumers' AckWait (while jobs are held; at least 1 s). */
const ACK_WAIT_READ_MS = 5000;

export function holdJobs(o: {
  sql: Sql;
  nats: Nats;
  names: Names;
  log: Logger;
  ackWaitMs: number;
  leaseMs: number;
  /** The job types held, whose consumers' AckWait the heartbeats follow. */
  types: readonly string[];
}): HeldJobs {
  const held = new Map<string, Attempt>();
  /**
   * Claims on their way back, by job: one entry for all the claims of a job this process has under way (a
   * copy of its message delivered while the first claim is still on its way: the reconciler's copy, or one
   * redelivered as that claim waits for PostgreSQL, its in-progress acks lost while NATS was unreachable), so a
   * cancel reaches the claim that wins, whichever.
   */
  const claiming = new Map<string, { cancelled: boolean; claims: number }>();
  /** Deliveries kept (`keep`) with the time of their last in-progress ack (or of the keep's start). */
  const kept = new Map<JsMsg, number>();

  const cancels: Subscription = o.nats.nc.subscribe(o.names.cancelPattern, {
    callback: (_err, msg) => {
      const id = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
      held.get(id)?.abort('cancelled');
      const c = claiming.get(id);
      if (c) c.cancelled = true;
    },
  });

  const asks: Subscription = o.nats.nc.subscribe(o.names.heldPattern, {
    callback: (_err, msg) => {
      const id = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
      const attempt = held.get(id);
      // A claim of the job under way may be the attempt asked about: committed with its answer lost, it is
      // retried (and found by its token) once PostgreSQL answers, and this process settles the job then.
      if ((attempt && msg.string() === heldAttemptBody(attempt.job)) || claiming.has(id)) msg.respond();
    },
  });

  function tick(): void {
    const now = Date.now();
    const late = now - lastTick - beatMs / 4;
    lastTick = now;
    if (late > beatMs && held.size) {
      o.log.warn(
        { lateMs: late, ackWaitMs: ackWait, jobs: [...held.keys()] },
        'event loop blocked (a handler computing without awaiting?): in-progress acks were late; past AckWait these jobs are redelivered and may run twice',
      );
    }
    const beatDue = (last: number) => now - last >= (beatMs * 3) / 4;
    for (const [m, last] of kept) {
      if (!beatDue(last)) continue;
      m.working();
      kept.set(m, now);
    }
    const due: Attempt[] = [];
    for (const h of held.values()) {
      if (!beatDue(h.lastBeat)) continue;
      h.beat(now);
      due.push(h);
    }
    if (!due.length) return;
    renewLeases(o.sql, due.map((h) => h.fence), o.leaseMs).then(
      (rs) => due.forEach((h, i) => h.leaseRenewed(rs[i]!)),
      () => {},
    );
  }
  let beatMs = 0;
  let lastTick = Date.now();
  /** The AckWait the beats keep up with. */
  let ackWait = 0;
  let beats: NodeJS.Timeout | undefined;
  /** Beats a third of `ackWaitMs` apart (of this process's own, if that is shorter). */
  function pace(ackWaitMs: number): void {
    ackWait = Math.min(o.ackWaitMs, ackWaitMs);
    const ms = Math.max(250, Math.floor(ackWait / 3));
    if (ms === beatMs) return;
    beatMs = ms;
    lastTick = Date.now(); // the next tick is on the new pace
    clearInterval(beats);
    beats = setInterval(tick, beatMs / 4);
    beats.unref();
  }
  pace(o.ackWaitMs);

  let reading = false;
  async function readAckWait(): Promise<void> {
    if (reading || !(held.size || kept.size)) return;
    reading = true;
    try {
      const infos = await Promise.all(
        o.types.map((t) => o.nats.jsm.consumers.info(o.names.jobsStream, o.names.workerConsumer(t)).catch(() => null)),
      );
      const waits = infos.flatMap((i) => (i?.config.ack_wait ? [i.config.ack_wait / 1e6] : []));
      if (waits.length) pace(Math.min(...waits));
    } finally {
      reading = false;
    }
  }
  const reads = setInterval(() => void readAckWait(), Math.max(1000, Math.min(ACK_WAIT_READ_MS, beatMs)));
  reads.unref();

  async function keep<T>(m: JsMsg, fn: () => Promise<T>): Promise<T> {
    kept.set(m, Date.now());
    try {
      return await fn();
    } finally {
      kept.delete(m);
    }
  }

  return {
    attempts: held,
    async claim(id, m, claim) {
      let onTheWay = claiming.get(id);
      if (!onTheWay) claiming.set(id, (onTheWay = { cancelled: false, claims: 0 }));
      onTheWay.claims++;
      try {
        return { job: await keep(m, claim), cancelled: onTheWay.cancelled };
      } finally {
        if (--onTheWay.claims === 0) claiming.delete(id);
      }
    },
    keep,
    hold(attempt) {
      held.get(attempt.job.id)?.abort('lost');
      held.set(attempt.job.id, attempt);
    },
    release(attempt) {
      if (held.get(attempt.job.id) === attempt) held.delete(attempt.job.id);
    },
    close() {
      clearInterval(beats);
      clearInterval(reads);
      cancels.unsubscribe();
      asks.unsubscribe();
    },
  };
}
