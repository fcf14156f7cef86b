/**
 * An error of the HTTP server once it listens (an `accept` that fails with EMFILE when the process is out of
 * file descriptors) is logged, and the API goes on serving. Before, `ws` handed it to its WebSocketServer,
 * where graphql-ws closed every subscription socket (1011) on the first one, and the second, with nothing
 * listening for it, was an uncaught exception that ended the process.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, gql } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { rawSocket } from '../support/raw-ws.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

it('server errors after the listen neither close the WebSockets nor end the process', async () => {
  const s = rawSocket(t.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(t.key!) } });
  await s.next((m) => m.type === 'connection_ack');

  const emfile = () => Object.assign(new Error('accept EMFILE'), { code: 'EMFILE', syscall: 'accept' });
  expect(() => t.app.http.server.emit('error', emfile())).not.toThrow();
  expect(() => t.app.http.server.emit('error', emfile())).not.toThrow();

  const stillOpen = await Promise.race([s.closed.then((c) => c.code), new Promise((r) => setTimeout(() => r('open'), 500))]);
  expect(stillOpen).toBe('open');
  s.send({ id: 'q', type: 'subscribe', payload: { query: '{ jobTypes { name } }' } });
  expect((await s.next((m) => m.id === 'q' && m.type === 'next')).payload.data.jobTypes.length).toBeGreaterThan(0);
  expect((await gql(t.url, '{ __typename }')).body.data).toEqual({ __typename: 'Query' });
  s.ws.close();
});
