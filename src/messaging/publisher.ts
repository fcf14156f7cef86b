/**
 * JetStream publishes without a request per message. `js.publish()` makes each publish a core-NATS request:
 * a timer, two error objects with stack traces and listeners, per message; at thousands of publishes a
 * second that was the largest cost in the API process (docs/performance.md). Here every publish goes out
 * as a plain PUB whose reply subject is a token under one inbox subscription; the PubAck (or error) that
 * JetStream sends there settles its promise, and one sweep fails publishes left unanswered for `timeoutMs`.
 * Same contract as `js.publish()` with `msgID`: resolves with the stream and sequence (`duplicate` when
 * JetStream already had that Nats-Msg-Id), rejects when there is no answer, no stream, or a JetStream error.
 */
import { createInbox, MsgHdrsImpl, type NatsConnection } from '@nats-io/nats-core';

export interface PubAck {
  stream: string;
  seq: number;
  duplicate: boolean;
}

export interface Publisher {
  /** `traceparent`, when given, travels as the message's W3C `traceparent` header. */
  publish(subject: string, data: Uint8Array, o: { msgID: string; traceparent?: string | null }): Promise<PubAck>;
  /** Fails what is still waiting and stops listening. */
  close(): void;
}

export class PublishError extends Error {
  override name = 'PublishError';
}

/** No stream takes the subject (JetStream's 503): it was never made, or deleted, or nats-server lost its store. */
export class NoStreamError extends PublishError {
  override name = 'NoStreamError';
}

export const isNoStream = (e: unknown): e is NoStreamError => e instanceof NoStreamError;

/**
 * A publish's NATS headers, made without nats.js's per-key checks and encoded with `Buffer.from` (Node's
 * shared pool) instead of a TextEncoder into a new array: 0.5 against 1.2 µs per message in a loop, of the
 * publisher's 8–9.5 µs. Values are the outbox's message ids and W3C traceparents; a CR or LF would end the
 * header block, so it is refused, as nats.js refuses it.
 */
class PublishHeaders extends MsgHdrsImpl {
  constructor(values: [key: string, value: string][]) {
    super();
    for (const [k, v] of values) {
      if (/[\r\n]/.test(v)) throw new PublishError(`header ${k} cannot contain CR or LF`);
      this.headers.set(k, [v]);
    }
  }

  override encode(): Uint8Array {
    return Buffer.from(this.toString());
  }
}

const publishHeaders = (msgID: string, traceparent: string | null | undefined) =>
  new PublishHeaders(traceparent ? [['Nats-Msg-Id', msgID], ['traceparent', traceparent]] : [['Nats-Msg-Id', msgID]]);

export function createPublisher(nc: NatsConnection, timeoutMs = 5000): Publisher {
  const inbox = createInbox();
  const waiting = new Map<string, { resolve: (a: PubAck) => void; reject: (e: Error) => void; at: number }>();
  let next = 0;
  const decoder = new TextDecoder();

  const sub = nc.subscribe(`${inbox}.*`, {
    callback: (_err, msg) => {
      const token = msg.subject.slice(inbox.length + 1);
      const w = waiting.get(token);
      if (!w) return;
      waiting.delete(token);
      if (msg.data.length === 0) {
        // A status message: 503 = no stream listens on the subject.
        const code = msg.headers?.code;
        const error = code === 503 ? NoStreamError : PublishError;
        return w.reject(new error(`JetStream did not take the message (status ${code ?? 'none'})`));
      }
      const a = JSON.parse(decoder.decode(msg.data)) as { stream?: string; seq?: number; duplicate?: boolean; error?: { description?: string } };
      if (a.error || !a.stream || typeof a.seq !== 'number') {
        return w.reject(new PublishError(`JetStream refused the message: ${a.error?.description ?? 'invalid PubAck'}`));
      }
      w.resolve({ stream: a.stream, seq: a.seq, duplicate: a.duplicate === true });
    },
  });

  const sweep = setInterval(() => {
    const before = Date.now() - timeoutMs;
    for (const [token, w] of waiting) {
      if (w.at >= before) break; // in publish order: the rest are younger
      waiting.delete(token);
      w.reject(new PublishError(`no PubAck within ${timeoutMs} ms`));
    }
  }, Math.min(1000, timeoutMs));
  sweep.unref();

  return {
    publish(subject, data, o) {
      return new Promise<PubAck>((resolve, reject) => {
        const token = (next++).toString(36);
        try {
          nc.publish(subject, data, { reply: `${inbox}.${token}`, headers: publishHeaders(o.msgID, o.traceparent) });
        } catch (e) {
          return reject(e as Error); // the connection is closed, or a header value is not one
        }
        waiting.set(token, { resolve, reject, at: Date.now() });
      });
    },
    close() {
      clearInterval(sweep);
      sub.unsubscribe();
      for (const w of waiting.values()) w.reject(new PublishError('publisher closed'));
      waiting.clear();
    },
  };
}
