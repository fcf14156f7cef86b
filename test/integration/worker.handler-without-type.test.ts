/**
 * A handler whose job type the process does not set up (it was left out of the types given to `startApp` or
 * `runWorkerProcess`) has no consumer to pull from: the pool refuses to start, naming the type, instead of
 * logging "pull failed" every second for ever while that type's jobs are never run.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { startTestApp, type TestApp } from '../support/app.js';

const unlisted = defineJobType({ name: 'test.unlisted', description: 'a type nobody listed', payload: z.object({}) });
const handler = defineHandler(unlisted, async () => 'ran');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null }); // the built-in types only
});
afterAll(async () => {
  await t?.dispose();
});

it('refuses to start a pool with a handler whose type the process does not serve, naming the type', async () => {
  await expect(startWorkerPool(t.config, t.app.deps, [...BUILTIN_HANDLERS, handler])).rejects.toThrow(
    /handlers for job types this process does not set up: test\.unlisted \(/,
  );
});

it('starts one whose every handler has its type', async () => {
  const pool = await startWorkerPool(t.config, t.app.deps, BUILTIN_HANDLERS);
  await pool.stop(1000);
});
