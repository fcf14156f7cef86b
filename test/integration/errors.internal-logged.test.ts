/**
 * An error nothing classifies (a bug: here a job type whose payload schema throws) answers the client
 * INTERNAL_SERVER_ERROR, "internal error" outside development, and is logged with its stack for the
 * operator, who otherwise had nothing to go on, with the id of the request (`x-request-id`, given or made)
 * that the client can quote: on HTTP, where Apollo's formatError knows no request, and over graphql-ws.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';

const broken = defineJobType({
  name: 'test.broken-schema',
  description: 'its payload check throws',
  payload: z.object({}).superRefine(() => {
    throw new Error('lookup table missing');
  }),
});

const logs: { level: number; msg: string; err?: { message: string; stack: string }; path?: unknown[]; requestId?: string }[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, broken],
    handlers: null,
    log: createLogger('warn', 'longrun', { write: (line: string) => void logs.push(JSON.parse(line)) }),
  });
});
afterAll(async () => {
  await t?.dispose();
});

const internalLogged = () => logs.splice(0).filter((l) => l.msg === 'internal error answered to a client');
const loggedAs = (requestId: string) => [
  expect.objectContaining({ level: 50, requestId, path: ['submitJob'], err: expect.objectContaining({ message: 'lookup table missing' }) }),
];

it('logs an internal error with its stack, path and request id, and answers the client INTERNAL_SERVER_ERROR', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.broken-schema', payload: {} } }, { authorization: `Bearer ${t.key}`, 'x-request-id': 'req-broken-1' });
  expect(r.body.errors).toEqual([expect.objectContaining({ path: ['submitJob'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
  const logged = internalLogged();
  expect(logged).toEqual(loggedAs('req-broken-1'));
  expect(logged[0]!.err!.stack).toContain('lookup table missing');
  expect(await t.env.sql`select id from jobs where type = 'test.broken-schema'`).toHaveLength(0);
});

it('does so over graphql-ws too, with the id of the socket’s upgrade request', async () => {
  const ws = new WebSocket(t.wsUrl, 'graphql-transport-ws', { headers: { 'x-request-id': 'req-broken-ws' } });
  const messages: any[] = [];
  const answered = new Promise<void>((resolve) =>
    ws.on('message', (data) => {
      const m = JSON.parse(String(data));
      messages.push(m);
      if (m.type === 'connection_ack') ws.send(JSON.stringify({ id: '1', type: 'subscribe', payload: { query: SUBMIT, variables: { input: { type: 'test.broken-schema', payload: {} } } } }));
      if (m.type === 'complete' || m.type === 'error') resolve();
    }),
  );
  ws.on('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: `Bearer ${t.key}` } })));
  await answered;
  ws.close();
  const answer = messages.find((m) => m.type === 'next');
  expect(answer.payload.errors).toEqual([expect.objectContaining({ path: ['submitJob'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
  expect(internalLogged()).toEqual(loggedAs('req-broken-ws'));
});
