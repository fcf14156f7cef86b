/**
 * graphql-ws forgets an operation as soon as its client completes it, before the server has finished it
 * (its setup reading PostgreSQL, or its last result): a subscribe that reused the id at that moment ran
 * beside it, both answering under that id, and the first could no longer be ended. It streamed on after
 * the socket closed (its NATS listener held for good) and its key's subscription slot was never given back;
 * or the first's end was sent under the id and ended the second. The protocol lets a client reuse an id
 * once it has completed its operation: the new subscribe now waits until the old operation has finished.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, PROGRESS, SUBMIT } from '../support/graphql.js';
import { rawSocket, type RawSocket } from '../support/raw-ws.js';
import { eventually } from '../support/streams.js';

const MAX_SUBSCRIPTIONS = 3;
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { MAX_SUBSCRIPTIONS_PER_KEY: String(MAX_SUBSCRIPTIONS) } });
});
afterAll(async () => {
  await t?.dispose();
});

/** A new key, a QUEUED job of its owner (no workers: its jobProgress stays open), and a socket let in with it. */
async function connected(): Promise<{ s: RawSocket; job: string; key: string }> {
  const key = (await t.createKey('reuse')).key;
  const job = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } }, { authorization: bearer(key) })).body.data.submitJob.job.id;
  const s = rawSocket(t.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(key) } });
  await s.next((m) => m.type === 'connection_ack');
  return { s, job, key };
}
const watch = (id: string, job: string) => ({ id, type: 'subscribe', payload: { query: PROGRESS, variables: { id: job } } });

/** Sends a ping and waits for its pong: every message sent before it has been handled. */
async function roundTrip(s: RawSocket, n: number): Promise<void> {
  s.send({ type: 'ping', payload: { n } });
  await s.next((m) => m.type === 'pong' && m.payload?.n === n);
}
const framesOf = (s: RawSocket, id: string) => s.messages.filter((m) => m.id === id).map((m) => m.type);

it('subscribe, complete and subscribe again at once (the first still reading its job): one subscription, ended by one complete; nothing left', async () => {
  const listeners = t.app.hub.listenerCount;
  const { s, job, key } = await connected();
  s.send(watch('x', job)); // its setup reads the job from PostgreSQL meanwhile
  s.send({ id: 'x', type: 'complete' });
  s.send(watch('x', job));
  await s.next((m) => m.id === 'x' && m.type === 'next');
  await roundTrip(s, 1);
  expect(framesOf(s, 'x')).toEqual(['next']); // before: two snapshots
  expect(t.app.hub.listenerCount).toBe(listeners + 1);

  s.send({ id: 'x', type: 'complete' });
  await eventually(() => t.app.hub.listenerCount === listeners, 'the subscription to stop listening'); // before: one held for good
  s.ws.close();
  await s.closed;

  // The key holds MAX_SUBSCRIPTIONS_PER_KEY subscriptions again.
  const again = rawSocket(t.wsUrl);
  await again.opened;
  again.send({ type: 'connection_init', payload: { authorization: bearer(key) } });
  await again.next((m) => m.type === 'connection_ack');
  for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) again.send(watch(String(i), job));
  for (let i = 0; i < MAX_SUBSCRIPTIONS; i++) expect((await again.next((m) => m.id === String(i))).type).toBe('next');
  again.ws.close();
  await again.closed;
});

it('complete and subscribe again at once on a live subscription: the new one gets its snapshot, no stray complete', async () => {
  const { s, job } = await connected();
  s.send(watch('x', job));
  await s.next((m) => m.type === 'next');
  s.send({ id: 'x', type: 'complete' });
  s.send(watch('x', job));
  await eventually(() => framesOf(s, 'x').length >= 2, 'the second snapshot');
  await roundTrip(s, 1);
  expect(framesOf(s, 'x')).toEqual(['next', 'next']); // before: ['next', 'complete']
  s.ws.close();
  await s.closed;
});

it('a socket closed while a reused id waits: the waiting subscribe never starts, nothing left listening', async () => {
  const listeners = t.app.hub.listenerCount;
  for (let i = 0; i < 5; i++) {
    const { s, job } = await connected();
    s.send(watch('x', job));
    s.send({ id: 'x', type: 'complete' });
    s.send(watch('x', job)); // waits for the first, still reading its job
    s.ws.terminate();
  }
  await new Promise((r) => setTimeout(r, 500)); // the first subscriptions' reads are done
  await eventually(() => t.app.hub.listenerCount === listeners, 'every subscription to stop listening');
});

it('a subscribe with the id of a subscription still on is a duplicate: closed 4409', async () => {
  const { s, job } = await connected();
  s.send(watch('x', job));
  s.send(watch('x', job));
  expect((await s.closed).code).toBe(4409);
});
