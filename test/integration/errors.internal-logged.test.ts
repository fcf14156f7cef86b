/**
 * An error nothing classifies (a bug: here a job type whose payload schema throws) answers the client
 * INTERNAL_SERVER_ERROR, "internal error" outside development, and is logged with its stack for the
 * operator, who otherwise had nothing to go on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
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

const logs: { level: number; msg: string; err?: { message: string; stack: string }; path?: unknown[] }[] = [];
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

it('logs an internal error with its stack and path, and answers the client INTERNAL_SERVER_ERROR', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.broken-schema', payload: {} } });
  expect(r.body.errors).toEqual([expect.objectContaining({ path: ['submitJob'], extensions: { code: 'INTERNAL_SERVER_ERROR' } })]);
  const logged = logs.filter((l) => l.msg === 'internal error answered to a client');
  expect(logged).toEqual([expect.objectContaining({ level: 50, path: ['submitJob'], err: expect.objectContaining({ message: 'lookup table missing' }) })]);
  expect(logged[0]!.err!.stack).toContain('lookup table missing');
  expect(await t.env.sql`select id from jobs where type = 'test.broken-schema'`).toHaveLength(0);
});
