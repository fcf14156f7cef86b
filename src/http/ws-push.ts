/**
 * A subscription's results written straight to its socket as graphql-ws `next` frames, instead of going
 * through graphql-ws' per-result path (execute, `onNext`, validate and stringify the message, one promise
 * chain each). The frame is the cached payload JSON (src/graphql/shared-results.ts) with the operation id
 * around it, so a fan-out costs a string concatenation and a socket write per subscriber.
 *
 * graphql-ws still owns the operation: it gets an iterator whose single `next()` settles when the stream
 * ends (graphql-ws then sends `complete`), fails (graphql-ws sends `error`), or the signal aborts (the
 * signal's reason becomes the `error`, e.g. a revoked key). `return()` (the client's `complete`, a closed
 * socket) stops the pump and returns the source at once.
 *
 * A stream that offers direct delivery (jobProgress, see DirectDelivery) gets its live updates written from
 * the NATS callback itself while the subscription is idle: no promise per update.
 *
 * Flow control: while the socket has much unsent data, the next event is taken only once the previous
 * frame is written, so a subscriber that falls behind leaves its updates in its inbox, where jobProgress
 * keeps the latest progress report (src/progress/inbox.ts); `guardSends` (ws-socket.ts) caps the rest.
 */
import type { PayloadOf } from '../graphql/shared-results.js';
import { offersDirectDelivery } from '../progress/generator.js';

export interface PushOptions {
  /** The graphql-ws operation id. */
  id: string;
  payloadOf: PayloadOf;
  /** Writes one text frame; a promise means: wait until it is written before the next. */
  send(frame: string): Promise<void> | undefined;
  /** Ends the operation with its reason as the error. */
  signal: AbortSignal;
}

type Done = IteratorResult<never, undefined>;
const DONE: Done = { done: true, value: undefined };

export function pushResults(events: AsyncIterable<unknown>, o: PushOptions): AsyncGenerator<never, undefined> {
  const source = events[Symbol.asyncIterator]();
  const head = `{"id":${JSON.stringify(o.id)},"type":"next","payload":`;
  let settle!: { resolve(r: Done): void; reject(e: unknown): void };
  const settled = new Promise<Done>((resolve, reject) => (settle = { resolve, reject }));
  let stopped = false;

  /** Stops once: no more frames, the source returned (it stops waiting for its next event at once). */
  const stop = (): boolean => {
    if (stopped) return false;
    stopped = true;
    o.signal.removeEventListener('abort', onAbort);
    void source.return?.().catch(() => {});
    return true;
  };
  const onAbort = () => {
    if (stop()) settle.reject(o.signal.reason);
  };

  /** A directly delivered frame that must be written before the next is sent (the socket is full). */
  let writing: Promise<void> | null = null;
  /** Sends an event at once if it can (see DirectDelivery); false leaves it to the pump. */
  const deliverNow = (event: unknown): boolean => {
    if (stopped || writing) return false;
    let payload: string | Promise<string>;
    try {
      payload = o.payloadOf(event);
    } catch {
      return false; // the pump meets the same error and ends the operation with it
    }
    if (typeof payload !== 'string') return false;
    const written = o.send(head + payload + '}');
    if (written) {
      const done = () => {
        writing = null;
      };
      writing = written.then(done, done); // a failed write closes the socket, which ends the operation
    }
    return true;
  };

  async function pump(): Promise<void> {
    try {
      if (offersDirectDelivery(events)) events.deliverTo(deliverNow);
      for (;;) {
        const r = await source.next();
        if (stopped) return;
        if (r.done) break;
        const payload = o.payloadOf(r.value);
        if (writing) await writing;
        const written = o.send(head + (typeof payload === 'string' ? payload : await payload) + '}');
        if (written) await written;
        if (stopped) return;
      }
      stopped = true;
      o.signal.removeEventListener('abort', onAbort);
      settle.resolve(DONE);
    } catch (e) {
      if (stop()) settle.reject(e);
    }
  }

  let started = false;
  const it: AsyncGenerator<never, undefined> = {
    next() {
      if (!started) {
        started = true;
        if (o.signal.aborted) onAbort();
        else {
          o.signal.addEventListener('abort', onAbort, { once: true });
          void pump();
        }
      }
      return settled;
    },
    async return() {
      stop();
      settle.resolve(DONE);
      return DONE;
    },
    async throw(e: unknown) {
      stop();
      settle.resolve(DONE);
      throw e;
    },
    [Symbol.asyncIterator]() {
      return it;
    },
  };
  return it;
}
