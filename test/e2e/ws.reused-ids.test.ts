/**
 * graphql-ws forgets an operation as soon as its client completes it, before the server has finished it
 * (its setup reading PostgreSQL, or its last result): a subscribe that reused the id at that moment ran
 * beside it, both answering under that id, and the first could no longer be ended. It streamed on after
 * the socket closed (its NATS listener held for good) and its key's subscription slot was never given back.
 * Such a reuse is a duplicate id (4409); an id the server has finished with can be used again.
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

it('subscribe, complete and subscribe again with the same id at once: closed 4409; nothing left listening, every slot given back', async () => {
  const listeners = t.app.hub.listenerCount;
  const { s, job, key } = await connected();
  s.send(watch('x', job)); // its setup reads the job from PostgreSQL meanwhile
  s.send({ id: 'x', type: 'complete' });
  s.send(watch('x', job));
  // Before, both ran: two snapshots came under "x", and the socket stayed open.
  const first = await Promise.race([s.closed.then((c) => c.code), s.next((m) => m.type === 'next').then(() => 'a next under "x"')]);
  expect(first).toBe(4409);
  await eventually(() => t.app.hub.listenerCount === listeners, 'the first subscription to stop listening');

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

it('an id the server has finished with can be used again: one snapshot each time', async () => {
  const { s, job } = await connected();
  s.send(watch('x', job));
  await s.next((m) => m.type === 'next');
  s.send({ id: 'x', type: 'complete' });
  s.send({ type: 'ping' });
  await s.next((m) => m.type === 'pong'); // handled after the complete
  s.send(watch('x', job));
  await eventually(() => s.messages.filter((m) => m.type === 'next').length === 2, 'the second snapshot');
  s.send({ type: 'ping', payload: { n: 2 } });
  await s.next((m) => m.type === 'pong' && m.payload?.n === 2);
  expect(s.messages.filter((m) => m.id === 'x').map((m) => m.type)).toEqual(['next', 'next']);
  s.ws.close();
  await s.closed;
});
