/**
 * parsePayload runs each check of a type's payload schema once per parse, an async one too: a synchronous
 * parse tried first calls an async refinement before zod refuses it, so its lookup ran twice, and when that
 * first call rejected nobody handled it (an unhandled rejection ends the API or worker process).
 */
import { afterEach, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType, parsePayload } from '../../src/jobs/definition.js';

const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => void unhandled.push(reason);
afterEach(() => {
  process.off('unhandledRejection', onUnhandled);
  unhandled.length = 0;
});

it('calls an async refinement and an async transform once per parse', async () => {
  const calls = { refine: 0, transform: 0, sync: 0 };
  const type = defineJobType({
    name: 'test.looked-up',
    description: 'an async lookup',
    payload: z
      .object({ sku: z.string() })
      .refine(() => ++calls.sync > 0)
      .refine(async () => ++calls.refine > 0, { message: 'no such sku' })
      .transform(async (p) => (calls.transform++, { ...p, found: true })),
  });
  expect(await parsePayload(type, { sku: 'a' })).toMatchObject({ success: true, data: { sku: 'a', found: true } });
  expect(calls).toEqual({ refine: 1, transform: 1, sync: 1 });
});

it('leaves no rejection unhandled when an async refinement rejects (its lookup down): the parse rejects with it', async () => {
  process.on('unhandledRejection', onUnhandled);
  const type = defineJobType({
    name: 'test.lookup-down',
    description: 'an async lookup that fails',
    payload: z.object({}).refine(async () => Promise.reject(new Error('lookup down'))),
  });
  await expect(Promise.resolve().then(() => parsePayload(type, {}))).rejects.toThrow('lookup down');
  await new Promise((r) => setTimeout(r, 50));
  expect(unhandled).toEqual([]);
});

it('parses a synchronous schema as before', async () => {
  const type = defineJobType({ name: 'test.plain', description: 'plain', payload: z.object({ n: z.number().default(1) }) });
  expect(await parsePayload(type, {})).toMatchObject({ success: true, data: { n: 1 } });
  const refused = await parsePayload(type, { n: 'x' });
  expect(refused.success).toBe(false);
  expect(refused.error?.issues[0]?.path).toEqual(['n']);
});
