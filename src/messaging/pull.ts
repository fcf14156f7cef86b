/**
 * Pull requests to a durable consumer (a worker's job type, the notifier, the dead-letter recorder), sent and
 * read here rather than through nats.js `fetch`. A message the server sends for a pull reaches no one once the
 * client has stopped listening for it, and waits unacked for the AckWait (30 s); `fetch` stops listening on its
 * own clocks, which a slow link outruns (below). Here a pull ends only when the server has said so, or when a
 * round trip has shown that its time is up on the server and everything it sent is in.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { JsMsg } from '@nats-io/jetstream';
import { createInbox, nanos, type Msg, type NatsConnection, type Subscription } from '@nats-io/nats-core';

/**
 * nats.js's own message (acks, naks, delivery info) for what a pull receives. nats.js builds it in the module
 * below but leaves it out of its package exports; loaded by path, it is the same module its `fetch` uses.
 */
const requireHere = createRequire(import.meta.url);
const { toJsMsg } = requireHere(join(dirname(requireHere.resolve('@nats-io/jetstream')), 'jsmsg.js')) as {
  toJsMsg(m: Msg, ackTimeoutMs?: number): JsMsg;
};

/**
 * How long one pull request waits on the server for messages. A stopping process does not withdraw the pull
 * it has out (the server cannot be asked to, and what it is sending that moment would reach no one, unacked
 * until the AckWait: verified on 2.9.10, dozens of a burst). It lets the server end the pull, this long after
 * the server had it (the process learns it a round trip later: later still on a slow link), handing back what
 * it brings meanwhile (`handBack`); short, so a stop is not held up long. An idle worker pulls again this
 * often per job type.
 */
export const PULL_EXPIRES_MS = 1000;

/** Timers and the server's expiry do not tick in step to the millisecond. */
const PULL_END_MARGIN_MS = 20;

/** How much longer than its time an idle pull waits for its 408 (`lapsed`). */
const LATE_408_MS = 1000;

/**
 * Until the server has answered, when it had the request is not known: it is reckoned to have had it this
 * long after the send (a pull is heard from within milliseconds but on a slow link, and its own messages are
 * not handed back before then).
 */
const UNHEARD_MARGIN_MS = 200;

/**
 * A pull that found its consumer (or its stream) missing: no answer at all (nats-server 2.9.10's answer then), or
 * ended by the server with 409 Consumer Deleted.
 */
export class ConsumerMissingError extends Error {
  override name = 'ConsumerMissingError';
}

export const isConsumerMissing = (e: unknown): e is ConsumerMissingError => e instanceof ConsumerMissingError;

/** One pull request: its messages as they come, and when it has surely ended on the server. */
export interface Pull {
  /** Ends when the pull has ended; throws when the server refused it or the connection was lost. */
  messages: AsyncIterable<JsMsg>;
  /**
   * When the pull has ended on the server at the latest: PULL_EXPIRES_MS after the first answer to it came
   * (the server had the request by then), and now once it has ended. Before any answer, reckoned from the send.
   */
  pullEnd: number;
}

/**
 * Sends a pull request for up to `max` messages, which the server ends after PULL_EXPIRES_MS (or once it has
 * sent `max`). Its messages end when the server ends it: its status 408 (Request Timeout), or the `max`-th
 * message.
 *
 * Not on a timer of the client's, as `fetch` does. `fetch` gives up after two missed idle heartbeats (for a
 * 1 s pull, no word from the server for about 1 s from the call), and on 2.9.10 a pull that expired while
 * messages were still coming for it now and then got no 408, so the last version stopped it 1.2 s after the
 * request was written. On a link with a round trip over 0.2 s (a slow network, or one stalled for a moment)
 * what the server sent in the pull's last moments then came after the client had stopped listening, and
 * over 0.5 s every pull failed: each such job sat QUEUED until its AckWait ran out.
 *
 * For the missing 408: a flush (PING) right after the request tells when the server had it at the latest (its
 * PONG, or the first message, comes after). PULL_EXPIRES_MS after that, a second flush: the server reads it
 * after the pull has expired, so everything it sent for the pull comes before its PONG, and the pull ends
 * there. Both flushes are answered in order with the pull's messages however slow the link is.
 */
export function pullMessages(nc: NatsConnection, stream: string, consumer: string, max: number): Pull {
  return new PullRequest(nc, `$JS.API.CONSUMER.MSG.NEXT.${stream}.${consumer}`, max);
}

class PullRequest implements Pull {
  pullEnd = Date.now() + PULL_EXPIRES_MS + UNHEARD_MARGIN_MS;
  readonly messages: AsyncIterable<JsMsg> = { [Symbol.asyncIterator]: () => this.read() };
  private readonly queue: JsMsg[] = [];
  private readonly inbox: string;
  private readonly sub: Subscription;
  private received = 0;
  private heard = false;
  private waitedFor408 = false;
  private ended = false;
  private failure: Error | null = null;
  private wakeReader: (() => void) | null = null;
  private lapse: NodeJS.Timeout | undefined;

  constructor(
    private readonly nc: NatsConnection,
    subject: string,
    private readonly max: number,
  ) {
    this.inbox = createInbox();
    this.sub = nc.subscribe(this.inbox, { callback: (err, m) => (err ? this.end(err) : this.receive(m)) });
    nc.publish(subject, JSON.stringify({ batch: max, expires: nanos(PULL_EXPIRES_MS) }), { reply: this.inbox });
    this.roundTrip(() => this.hear());
  }

  /** After a PING's PONG: `then`; a flush refused (the connection lost or closed) ends the pull. */
  private roundTrip(then: () => void): void {
    this.nc.flush().then(then, (e: unknown) => this.end(new Error('NATS connection lost during a pull', { cause: e })));
  }

  /** The server has the request: it ends PULL_EXPIRES_MS from now at the latest. */
  private hear(): void {
    if (this.heard || this.ended) return;
    this.heard = true;
    this.pullEnd = Date.now() + PULL_EXPIRES_MS + PULL_END_MARGIN_MS;
    this.lapseIn(this.pullEnd - Date.now());
  }

  /** In `ms`, a round trip, then `lapsed` (unless the pull has ended by then). */
  private lapseIn(ms: number): void {
    this.lapse = setTimeout(() => this.roundTrip(() => this.lapsed()), ms);
  }

  /**
   * The pull's time is up on the server and no 408 came: ended, if messages came (2.9.10's missing 408). With
   * nothing at all from the server, its 408 may only be late (a busy server expires pulls on a timer of its
   * own): it gets LATE_408_MS more, and then the consumer asked is taken to be missing (deleted, or its
   * stream), said so the caller tells and retries.
   */
  private lapsed(): void {
    if (this.received) return this.end();
    if (this.waitedFor408) return this.end(new ConsumerMissingError('no answer to the pull request (is the consumer there?)'));
    this.waitedFor408 = true;
    this.lapseIn(LATE_408_MS);
  }

  private receive(m: Msg): void {
    this.hear();
    if (this.ended) return;
    if (m.subject === this.inbox) return this.status(m);
    this.queue.push(toJsMsg(m));
    this.wake();
    if (++this.received >= this.max) this.end();
  }

  /** A status from the server about this pull (its messages come on their own subjects). */
  private status(m: Msg): void {
    const code = m.headers?.code ?? 0;
    if (code === 100) return; // heartbeat or flow control: not asked for
    if (code === 408 || code === 404) return this.end(); // expired / nothing there (no-wait): ended
    const description = m.headers?.description ?? '';
    const message = `pull request ended by the server: ${code} ${description}`.trim();
    this.end(code === 409 && /consumer deleted/i.test(description) ? new ConsumerMissingError(message) : new Error(message));
  }

  /** No more messages: the server has ended the pull (`failure`: it refused it, or the link is lost). */
  private end(failure?: Error): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.lapse);
    this.sub.unsubscribe();
    if (failure) this.failure = failure;
    else this.pullEnd = Math.min(this.pullEnd, Date.now());
    this.wake();
  }

  private wake(): void {
    const w = this.wakeReader;
    this.wakeReader = null;
    w?.();
  }

  private async *read(): AsyncGenerator<JsMsg> {
    for (;;) {
      const m = this.queue.shift();
      if (m) yield m;
      else if (this.failure) throw this.failure;
      else if (this.ended) return;
      else await new Promise<void>((r) => (this.wakeReader = r));
    }
  }
}

/**
 * How long a message handed back stays out of reach of `pull` (the process's last): until that pull has
 * surely ended on the server (`Pull.pullEnd`); 0 once it has, or with no pull yet. A stopping or paused process
 * leaves its pull out until the server ends it, and a message nak'ed for immediate redelivery came straight back
 * into that pull, over and over up to its size, each delivery counted against the consumer's max-deliver (10
 * deliveries of one job in one worker's stop).
 */
export const untilPullEnd = (pull: Pull | null): number => (pull ? Math.max(0, pull.pullEnd - Date.now()) : 0);

/** Hands a message back (nak) to be redelivered once `pull` has ended (`untilPullEnd`). */
export function handBack(m: JsMsg, pull: Pull | null): void {
  m.nak(untilPullEnd(pull));
}
