/**
 * A client's protocol faults are its own: the socket is closed with the protocol's code, and nothing is
 * written to the process' output or log, which a client could otherwise fill at will.
 * - A message only the server sends (`next`, `error`, `connection_ack`) is a malformed message (4400).
 *   graphql-ws' use/ws took it for an internal error: it closed with 4500 (the error's text as the reason
 *   outside production) and wrote the stack to stderr.
 * - A duplicate operation id too long for a close frame's reason (123 bytes), which 4409's reason quotes:
 *   ws refused to send that reason (a RangeError), and the socket was closed as for an internal error
 *   (4500), logged at error level. It closes with 4409, its reason cut to fit.
 */
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, PROGRESS, SUBMIT } from '../support/graphql.js';
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

it('a duplicate operation id of 200 characters: closed 4409 (reason cut to 123 bytes), nothing logged', async () => {
  const job = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } })).body.data.submitJob.job.id;
  const s = rawSocket(t.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(t.key!) } });
  await s.next((m) => m.type === 'connection_ack');
  const before = lines.length;
  const sub = { id: 'é'.repeat(200), type: 'subscribe', payload: { query: PROGRESS, variables: { id: job } } };
  s.send(sub);
  s.send(sub);
  const closed = await s.closed;
  expect(closed.code).toBe(4409);
  expect(Buffer.byteLength(closed.reason)).toBeLessThanOrEqual(123);
  expect(closed.reason).toMatch(/^Subscriber for é+…$/);
  expect(lines.slice(before)).toEqual([]);
});
