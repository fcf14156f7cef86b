/**
 * Two job type names that differ only by `.` against `_` (`acme.report`, `acme_report`) would map to one
 * durable worker consumer name (`worker_acme_report`): the second type would take over the first's consumer,
 * whose filter stays the first type's subject, so the second type's jobs would never be delivered and its
 * workers would run the first type's jobs. A process refuses to start with such a pair, in one catalog or
 * across processes (the consumer another process made for the other name), naming both types.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { createTestEnv, startTestApp, type TestEnv } from '../support/app.js';

const dotted = defineJobType({ name: 'acme.report', description: 'a report', payload: z.object({}) });
const underscored = defineJobType({ name: 'acme_report', description: 'another report', payload: z.object({}) });

let env: TestEnv;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await env?.dispose();
});

it('refuses to start with two types of one catalog whose consumer names collide', async () => {
  await expect(startTestApp({ env, types: [...BUILTIN_JOB_TYPES, dotted, underscored], handlers: null })).rejects.toThrow(
    /acme\.report.*acme_report|acme_report.*acme\.report/,
  );
});

it('refuses to start a process whose type collides with the consumer another process made for the other name', async () => {
  const first = await startTestApp({ env, types: [...BUILTIN_JOB_TYPES, dotted], handlers: null });
  try {
    await expect(startTestApp({ env, types: [...BUILTIN_JOB_TYPES, underscored], handlers: null })).rejects.toThrow(
      /acme_report.*acme\.report|acme\.report.*acme_report/,
    );
  } finally {
    await first.dispose();
  }
});
