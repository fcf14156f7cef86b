/**
 * The dead-letter recorder, run by each API process: consumes JetStream's MAX_DELIVERIES (and
 * MSG_TERMINATED) advisories from their durable stream, and sweeps for jobs whose worker died on the last
 * attempt and for stale copies to remove. What it does with each job is in dead-letters.ts.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { getJob } from '../db/jobs.js';
import { findAbandonedJobs, findJobByMsgSeq, leaseLeftMs } from '../db/dead-letters.js';
import { requeueMessage } from '../db/stale-jobs.js';
import type { JobRow } from '../db/schema.js';
import { isTerminal } from '../jobs/state.js';
import { orAfter, STOP_WAIT_MS } from '../deadline.js';
import { repeatAfterEach } from '../repeat.js';
import { repairingOnFailure } from './connect.js';
import { copyMissing, copyToDeadLetters, deadLetterJob, removeEarlierSeriesCopies, removeStaleCopies, type DeadLetterDeps } from './dead-letters.js';
import { HELD_LOOK_AGAIN_MS, heldByWorkers, PAST_LEASE_MS } from './held.js';
import { advisorySchema, jobMessageSchema, parseMessage, type Advisory } from './messages.js';
import { handBack, pullMessages } from './pull.js';

/**
 * Handles one advisory; throws to have it redelivered. Answers a delay instead when the job is not to be
 * failed yet: the advisory is to be handled again then.
 */
export async function handleAdvisory(d: DeadLetterDeps, a: Advisory, o: { ackWaitMs: number }): Promise<number | undefined> {
  if (a.stream !== d.names.jobsStream) return;
  const original = await d.nats.jsm.streams.getMessage(d.names.jobsStream, { seq: a.stream_seq });
  const maxDeliver = a.type === 'io.nats.jetstream.advisory.v1.max_deliver';
  // A termed message is gone (a work queue drops it) and its copy was recorded before the term(): nothing to
  // do, and no job to look up by its sequence (that look-up reads the whole table; every failed job is one).
  if (!original && !maxDeliver) return;
  const fromMessage = original ? parseMessage(jobMessageSchema, original.data) : null;
  const byMsgSeq = fromMessage ? null : await findJobByMsgSeq(d.sql, a.stream_seq);
  const job = fromMessage ? await getJob(d.sql, fromMessage.id) : byMsgSeq;
  if (!job) {
    if (original) await d.nats.jsm.streams.deleteMessage(d.names.jobsStream, original.seq);
    d.log.warn({ advisory: a }, 'dead letters: advisory for a message with no job; removed it');
    return;
  }
  const series = fromMessage?.series ?? byMsgSeq?.messageSeries;
  if (series !== job.series) {
    // From an earlier attempt series (a `retryJob` replay since; with the message gone, an advisory handled
    // again whose ack was lost): not this series' to fail. That series ended FAILED: its copy may be unrecorded.
    if (original) {
      if (typeof series === 'number' && series < job.series) await removeEarlierSeriesCopies(d, job);
      await d.nats.jsm.streams.deleteMessage(d.names.jobsStream, original.seq);
    }
    return;
  }
  if (maxDeliver) {
    if ((job.state === 'QUEUED' || job.state === 'RETRYING') && a.timestamp && job.updatedAt > job.createdAt && Date.parse(a.timestamp) < refusalsEnd(job, o.ackWaitMs)) {
      // Waiting again since about when JetStream gave up on its message: its worker, left to it while it held
      // the attempt (below), asked for a retry or handed it back as the advisory waited, or between the last
      // delivery other workers refused (nak'ed until the lease ends, at most an AckWait) and the advisory, which
      // nats-server raises when that delivery would come again; the nak of a message out of deliveries is
      // ignored. Not exhausted by its own deliveries, it gets a fresh message (the relay publishes it); then
      // the old one goes (a crash between: handled again, one more message, refused by the claim). A job not
      // written since its submit never ran: its deliveries were its own (a poison message, nak'ed at once).
      // A fresh message leaves `updatedAt` as it was, so only advisories within that window after the job's own
      // write take this way, never a message that keeps being exhausted.
      d.log.info({ jobId: job.id, state: job.state }, 'dead letters: deliveries exhausted while a worker held the job, which waits again since; queued a fresh message');
      await requeueMessage(d.sql, job, d.names.jobSubject(job.type));
      if (original) await d.nats.jsm.streams.deleteMessage(d.names.jobsStream, original.seq);
      return;
    }
    const stillHeld = job.state === 'RUNNING' ? await heldFor(d, job) : 0;
    if (stillHeld) {
      d.log.info({ jobId: job.id, deliveries: a.deliveries, lookAgainMs: stillHeld }, 'dead letters: deliveries exhausted, but a live worker holds the attempt; left to it');
      return stillHeld;
    }
    // Not when it ended meanwhile (its worker's outcome, while the advisory waited): then only the message goes.
    if (!isTerminal(job.state)) d.log.warn({ jobId: job.id, deliveries: a.deliveries }, 'dead letters: JetStream deliveries exhausted');
    // Changed since it was read (its worker, done with the attempt just now, asked for a retry): looked at again
    // as it is now, which may be the retry's window above.
    if (!(await deadLetterJob(d, job, a.stream_seq, `deliveries exhausted after ${a.deliveries} deliveries`))) return PAST_LEASE_MS;
  } else if (copyMissing(job)) {
    await copyToDeadLetters(d, job); // a termed message still there (not a work queue): its copy if missing
  }
}

/**
 * Until when an advisory may come from deliveries refused while the job's last attempt held it: the last
 * refusal waits out the lease (the worker's own AckWait: up to the end of the last lease, which a retry or
 * hand-back keeps in `lease_until`) + 100 ms, and nats-server raises the advisory when that delivery would
 * come again. Plus 5 s for PostgreSQL's clock (the lease's) and nats-server's (the advisory's) disagreeing.
 * A job written without a lease kept (before it was kept) is given this process's AckWait from its write.
 * A job whose message crashed its workers before any claim (a poison message) has no lease and was last
 * written long before: at least one AckWait per delivery.
 */
function refusalsEnd(job: JobRow, ackWaitMs: number): number {
  return Math.max(job.leaseUntil?.getTime() ?? 0, job.updatedAt.getTime() + ackWaitMs) + PAST_LEASE_MS + 5000;
}

/** Abandoned jobs one read of the sweep takes. */
const ABANDONED_PAGE = 100;

/**
 * The jobs among `jobs` whose attempt a live worker still holds (held.ts): left to it, with a line in the log.
 */
async function heldLogged(d: DeadLetterDeps, jobs: readonly JobRow[]): Promise<Set<string>> {
  const held = await heldByWorkers(d, jobs);
  if (held.size) d.log.info({ jobs: [...held] }, 'dead letters: lease ran out, but a worker still holds the attempt (cut off from PostgreSQL?); left to it');
  return held;
}

/**
 * Whether a live worker still holds a RUNNING job's attempt, as ms to wait before looking again (0: none
 * does). JetStream gives up on a message whose deliveries were all refused while the attempt ran: its worker
 * cut off from NATS (but not from PostgreSQL) renews the lease, but its in-progress acks do not arrive, so
 * the message goes to other workers, which nak it until the lease ends (settle.ts), once per lease, until
 * max-deliver. Failing the job then would throw away the attempt under way: it is left to its worker (whose
 * outcome settles it: the advisory, handled again, finds it finished) for as long as the lease is renewed,
 * or the worker answers the sweep's question (cut off from PostgreSQL instead).
 */
async function heldFor(d: DeadLetterDeps, job: JobRow): Promise<number> {
  const left = await leaseLeftMs(d.sql, job.id);
  if (left > 0) return left + PAST_LEASE_MS;
  return (await heldLogged(d, [job])).size ? HELD_LOOK_AGAIN_MS : 0;
}

/**
 * Has a deferred advisory handled again in `ms`. The advisory stream drops a message past its max_age, a
 * deferred one too: a job left to its worker for that long (its timeout may be weeks) would have no advisory
 * left to fail or re-queue it should that worker die or ask for a retry. So an advisory that has waited half
 * the stream's max_age is published again (the copy, with the same body, kept as long again) and the old one
 * acked (handled again before the ack landed, within the stream's duplicate window, it is not published twice:
 * its id). The delay never passes
 * half the max_age either.
 */
async function lookAgain(d: DeadLetterDeps, m: JsMsg, ms: number): Promise<void> {
  const info = await d.nats.jsm.streams.info(d.names.advisoryStream).catch(() => null);
  if (!info) return m.nak(ms); // NATS busy or cut: not sooner than asked (the stream keeps it days yet)
  const maxAgeMs = Number(info.config.max_age) / 1e6;
  if (maxAgeMs > 0 && Date.now() - m.time.getTime() >= maxAgeMs / 2) {
    // Its id (the old one's sequence) drops a second copy, should this one be handled again (its ack lost).
    // No stream takes it (the advisory stream's subjects changed): made again.
    await repairingOnFailure(d.nats, d.nats.js.publish(m.subject, m.data, { msgID: `republished-${m.seq}` }));
    m.ack();
    d.log.info({ seq: m.seq }, 'dead letters: advisory kept waiting past half its stream\'s max_age; published it again');
  } else {
    m.nak(maxAgeMs > 0 ? Math.min(ms, maxAgeMs / 2) : ms);
  }
}

export interface DeadLetterRecorder {
  /**
   * One sweep for abandoned jobs and stale copies (also run on a timer); answers the abandoned jobs it took.
   * Sweeps never overlap: one asked for while another runs starts when that one ends.
   */
  sweepOnce(): Promise<number>;
  /**
   * Stops consuming advisories (the pull out ends when the server has ended it, `pullMessages`; what it brings
   * meanwhile is handed back) and sweeping. A sweep under way ends after the job it is on (each step is
   * idempotent: the next sweep, in this process or another, takes up the rest); stop() waits for it at most
   * `STOP_WAIT_MS`, so a sweep stuck on a slow or locked database does not hold up the shutdown.
   */
  stop(): Promise<void>;
}


/**
 * Runs the recorder: consumes the advisory stream through its durable consumer, and sweeps for abandoned
 * jobs and stale copies still to remove `sweepIntervalMs` after the end of the previous sweep.
 */
export async function startDeadLetterRecorder(
  d: DeadLetterDeps,
  o: { ackWaitMs: number; sweepIntervalMs: number },
): Promise<DeadLetterRecorder> {
  let stopped = false;
  // There at the start (ensureStreams made it), or the start fails.
  await d.nats.jsm.consumers.info(d.names.advisoryStream, d.names.advisoryConsumer);

  const loop = (async () => {
    while (!stopped) {
      try {
        // Not closed by a stop, which would leave what the server is sending it that moment unacked until the
        // 30 s AckWait: it ends when the server has ended it (`pullMessages`), and what it brings after the stop
        // is handed back.
        const pull = pullMessages(d.nats.nc, d.names.advisoryStream, d.names.advisoryConsumer, 20);
        for await (const m of pull.messages) {
          if (stopped) {
            handBack(m, pull); // for another process's recorder
            continue;
          }
          const a = parseMessage(advisorySchema, m.data);
          try {
            const lookAgainMs = a ? await handleAdvisory(d, a, o) : undefined;
            if (lookAgainMs === undefined) m.ack();
            else await lookAgain(d, m, lookAgainMs);
          } catch (e) {
            d.log.warn({ err: e }, 'dead letters: advisory handling failed; it will be redelivered');
            m.nak(1000);
          }
        }
      } catch (e) {
        if (!stopped) d.log.warn({ err: e }, 'dead letters: advisory consumer failed; restarting');
        d.nats.repairIfMissing(e); // its consumer or stream gone: made again
        await new Promise((r) => setTimeout(r, 1000));
      }
    }
  })();

  async function sweep(): Promise<number> {
    if (stopped) return 0;
    let taken = 0;
    // A page by page read: the jobs of a page that workers still hold are read past, or a hundred of them
    // (an outage cutting many workers off) would hide every job behind them from each sweep.
    const seen: string[] = [];
    for (let more = true; more; ) {
      const jobs = await findAbandonedJobs(d.sql, 2 * o.ackWaitMs, ABANDONED_PAGE, seen);
      const held = await heldLogged(d, jobs);
      for (const job of jobs) {
        if (stopped) return taken;
        seen.push(job.id);
        if (held.has(job.id)) continue;
        // Changed since the read (its worker, back, wrote the outcome): the next sweep reads it again.
        if (await deadLetterJob(d, job, job.msgSeq, 'worker lost during the last attempt')) taken++;
      }
      more = jobs.length === ABANDONED_PAGE && held.size > 0;
    }
    if (stopped) return taken;
    const removed = await removeStaleCopies(d);
    if (removed) d.log.info({ removed }, 'dead letters: removed stale copies');
    return taken;
  }
  let lastSweep: Promise<unknown> = Promise.resolve();
  function sweepOnce(): Promise<number> {
    const next = lastSweep.then(sweep);
    lastSweep = next.catch(() => {});
    return next;
  }
  const sweeps = repeatAfterEach(o.sweepIntervalMs, () =>
    sweepOnce().catch((e: unknown) => {
      if (!stopped) d.log.warn({ err: e }, 'dead letters: sweep failed');
    }),
  );

  let stopping: Promise<void> | null = null;
  return {
    sweepOnce,
    stop() {
      stopping ??= (async () => {
        stopped = true;
        const swept = sweeps.stop().then(() => lastSweep);
        await Promise.all([orAfter(loop, STOP_WAIT_MS, null), orAfter(swept, STOP_WAIT_MS, null)]);
      })();
      return stopping;
    },
  };
}
