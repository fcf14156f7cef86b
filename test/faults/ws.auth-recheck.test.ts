// @module-tag faults
/**
 * A graphql-ws connection whose API key could not be checked because PostgreSQL was down answers
 * SERVICE_UNAVAILABLE while it is down, and recovers on the same socket once it is back: its next operation
 * checks the key again. The socket's connection slot (MAX_CONNECTIONS_PER_KEY) is taken once, however many
 * operations wait on that check, and given back when it closes.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, PROGRESS, SUBMIT } from '../support/graphql.js';
import { useEnvOnPrivatePostgres } from '../support/private-postgres-env.js';
import { rawSocket, type RawSocket } from '../support/raw-ws.js';

const services = useEnvOnPrivatePostgres();
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ env: services.env, handlers: null, config: { MAX_CONNECTIONS_PER_KEY: '1' }, log: createLogger('silent') });
});
afterAll(async () => {
  await t?.dispose();
});

/** A socket past connection_ack, with the test app's key. */
async function connected(): Promise<RawSocket> {
  const s = rawSocket(t.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(t.key!) } });
  await s.next((m) => m.type === 'connection_ack');
  return s;
}

/** The first answer (`next` or `error`) to operation `id`. */
const answer = (s: RawSocket, id: string) => s.next((m) => m.id === id && (m.type === 'next' || m.type === 'error'));
const codeOf = (m: any) => (m.type === 'error' ? m.payload[0]?.extensions?.code : 'next');
const TYPES = { query: '{ jobTypes { name } }' };

it('a socket whose key check found PostgreSQL down runs subscriptions once it is back', async () => {
  const submitted = await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } });
  const jobId = submitted.body.data.submitJob.job.id as string;

  await services.pg.stop();
  const s = await connected();
  s.send({ id: 'down', type: 'subscribe', payload: TYPES });
  expect((await answer(s, 'down')).payload).toEqual([
    { message: 'a backing service is unavailable, try again', extensions: { code: 'SERVICE_UNAVAILABLE' } },
  ]);

  await services.pg.start();
  // Two operations at once: both wait on one check of the key.
  for (const id of ['a', 'b']) s.send({ id, type: 'subscribe', payload: { query: PROGRESS, variables: { id: jobId } } });
  for (const id of ['a', 'b']) {
    const m = await answer(s, id);
    expect(m).toMatchObject({ type: 'next', payload: { data: { jobProgress: { jobId, state: 'QUEUED' } } } });
  }

  // The socket holds the key's one connection slot, once: a second socket is refused until it closes.
  const second = await connected();
  second.send({ id: '1', type: 'subscribe', payload: TYPES });
  expect(codeOf(await answer(second, '1'))).toBe('TOO_MANY_CONNECTIONS');
  second.ws.close();
  s.ws.close();
  await Promise.all([s.closed, second.closed]);
  let last = 'not tried';
  for (let i = 0; i < 50 && last !== 'next'; i++) {
    const next = await connected();
    next.send({ id: '1', type: 'subscribe', payload: TYPES });
    last = codeOf(await answer(next, '1'));
    next.ws.close();
    await next.closed;
  }
  expect(last).toBe('next');
});
