/**
 * Reads of a stream's messages on one subject (or wildcard) by sequence, with `next_by_subj`: the first
 * message on the subject at or after a sequence. nats-server 2.9.10 answers it on STREAM.MSG.GET (verified);
 * nats.js types that field for direct gets only, which the dead-letter stream allows none of, so the one cast
 * is here.
 */
import type { JetStreamManager, MsgRequest, NextMsgRequest, StoredMsg } from '@nats-io/jetstream';

/** The first message of `stream` on `subject` at or after sequence `seq`; null when there is none. */
export function nextOnSubject(jsm: JetStreamManager, stream: string, subject: string, seq: number): Promise<StoredMsg | null> {
  const request: NextMsgRequest = { next_by_subj: subject, seq };
  return jsm.streams.getMessage(stream, request as unknown as MsgRequest);
}

/** The messages of `stream` on `subject` from sequence `from` on, oldest first, read one request each. */
export async function* messagesOnSubject(jsm: JetStreamManager, stream: string, subject: string, from = 0): AsyncGenerator<StoredMsg> {
  for (let seq = from; ; ) {
    const m = await nextOnSubject(jsm, stream, subject, seq);
    if (!m) return;
    yield m;
    seq = m.seq + 1;
  }
}
