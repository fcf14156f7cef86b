/**
 * The outbox's JetStream publisher (src/messaging/publisher.ts): plain publishes with one reply inbox, with
 * the same answers as `js.publish()`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connectNats, type Nats } from '../../src/messaging/connect.js';
import { createPublisher, NoStreamError, type Publisher } from '../../src/messaging/publisher.js';
import { encode } from '../../src/messaging/messages.js';
import { createTestEnv, type TestEnv } from '../support/app.js';

let env: TestEnv;
let nats: Nats;
let publisher: Publisher;
const stream = () => `${env.prefix}PUBTEST`;
beforeAll(async () => {
  env = await createTestEnv();
  nats = await connectNats({ servers: [env.natsUrl], name: 'publisher-test' });
  await nats.jsm.streams.add({ name: stream(), subjects: [`${env.prefix}pubtest.>`], duplicate_window: 60_000_000_000 });
  publisher = createPublisher(nats.nc, 2000);
});
afterAll(async () => {
  publisher?.close();
  await nats?.close();
  await env?.dispose();
});

it('answers each publish with its own stream sequence, and a repeated message id as the duplicate it is', async () => {
  const acks = await Promise.all(
    Array.from({ length: 300 }, (_, i) => publisher.publish(`${env.prefix}pubtest.a`, encode({ i }), { msgID: `m-${i}` })),
  );
  expect(new Set(acks.map((a) => a.seq)).size).toBe(300);
  expect(acks.every((a) => a.stream === stream() && !a.duplicate)).toBe(true);
  // Each answer is the one for its message: sequence k holds message k.
  const m = await nats.jsm.streams.getMessage(stream(), { seq: acks[123]!.seq });
  expect(m?.json<{ i: number }>().i).toBe(123);

  const again = await publisher.publish(`${env.prefix}pubtest.a`, encode({ i: 7 }), { msgID: 'm-7' });
  expect(again).toEqual({ stream: stream(), seq: acks[7]!.seq, duplicate: true });
  expect((await nats.jsm.streams.info(stream())).state.messages).toBe(300);
});

it('rejects a publish no stream takes, as NoStreamError (which has the streams made again: stream-repair.ts)', async () => {
  await expect(publisher.publish(`${env.prefix}nostream.x`, encode({}), { msgID: 'x' })).rejects.toBeInstanceOf(NoStreamError);
});

it('rejects a publish left unanswered (a subscriber that is not JetStream), once the timeout passes', async () => {
  const silent = nats.nc.subscribe(`${env.prefix}silent.>`);
  try {
    await expect(publisher.publish(`${env.prefix}silent.x`, encode({}), { msgID: 'y' })).rejects.toThrow(/no PubAck within 2000 ms/);
  } finally {
    silent.unsubscribe();
  }
});

it('sends the message id and a traceparent as the message headers, and refuses a header value with CR or LF', async () => {
  const traceparent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
  const a = await publisher.publish(`${env.prefix}pubtest.h`, encode({ h: 1 }), { msgID: 'h-1', traceparent });
  const m = await nats.jsm.streams.getMessage(stream(), { seq: a.seq });
  expect(m?.header.get('Nats-Msg-Id')).toBe('h-1');
  expect(m?.header.get('traceparent')).toBe(traceparent);
  expect(m?.json<{ h: number }>().h).toBe(1);

  await expect(publisher.publish(`${env.prefix}pubtest.h`, encode({}), { msgID: 'h-2\r\nX-Injected: 1' })).rejects.toThrow(/cannot contain CR or LF/);
  await expect(publisher.publish(`${env.prefix}pubtest.h`, encode({}), { msgID: 'h-3', traceparent: 'a\nb' })).rejects.toThrow(/cannot contain CR or LF/);
  expect((await nats.jsm.streams.info(stream(), { subjects_filter: `${env.prefix}pubtest.h` })).state.subjects).toEqual({ [`${env.prefix}pubtest.h`]: 1 });
});
