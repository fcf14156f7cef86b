/**
 * A message only the server sends (`next`, `error`, `connection_ack`) coming from a client is a malformed
 * message: the socket is closed with 4400, and nothing is written to the process' output. graphql-ws'
 * use/ws took it for an internal error: it closed with 4500 (the error's text as the reason outside
 * production) and wrote the stack to stderr, a line any client could have the server print at will.
 */
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql } from '../support/graphql.js';
import { rawSocket } from '../support/raw-ws.js';

const lines: { level: number; msg: string }[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, log: createLogger('warn', 'longrun', { write: (s: string) => void lines.push(JSON.parse(s)) }) });
});
afterAll(async () => {
  await t?.dispose();
});
afterEach(() => {
  vi.restoreAllMocks();
});

it.each([
  ['next', { id: '1', type: 'next', payload: { data: {} } }],
  ['error', { id: '1', type: 'error', payload: [{ message: 'x' }] }],
  ['connection_ack', { type: 'connection_ack' }],
])('a client that sends %s: closed 4400, nothing printed or logged', async (_, message) => {
  const printed = vi.spyOn(console, 'error');
  const before = lines.length;
  const s = rawSocket(t.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(t.key!) } });
  await s.next((m) => m.type === 'connection_ack');
  s.send(message);
  expect(await s.closed).toEqual({ code: 4400, reason: 'Invalid message received' });
  expect(printed).not.toHaveBeenCalled();
  expect(lines.slice(before)).toEqual([]);
  expect((await gql(t.url, '{ jobTypes { name } }')).body.data.jobTypes.length).toBeGreaterThan(0);
});
