/**
 * What a handler gives back fits in the job's updates, so its watchers always see it end: a result over
 * MAX_RESULT_BYTES fails the job at once (a clear error, no retry), and a progress message or error text
 * longer than MAX_TEXT_LENGTH is cut. Before these limits, a 2 MB result, message or error made the update
 * too large for NATS and every watcher waited at RUNNING for ever.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import type { JobUpdate, LongrunClient } from '../../sdk/index.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { MAX_RESULT_BYTES, MAX_TEXT_LENGTH } from '../../src/jobs/payload-check.js';
import { PermanentJobError } from '../../src/errors.js';
import { defineHandler } from '../../workers/handler.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { sdkFor } from '../support/sdk.js';

const big = defineJobType({
  name: 'test.big',
  description: 'returns a result, reports a message or throws an error of `chars` characters',
  payload: z.object({ how: z.enum(['return', 'report', 'throw']), chars: z.number().int() }),
});
const handler = defineHandler(big, ({ how, chars }, ctx) => {
  const text = 'x'.repeat(chars);
  if (how === 'report') ctx.progress(50, text);
  if (how === 'throw') throw new PermanentJobError(text);
  return how === 'return' ? { text } : null;
});

let t: TestApp;
let sdk: LongrunClient;
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, big], handlers: null });
  sdk = sdkFor(t);
  workers = workerSwitch(t, [handler]);
});
afterAll(async () => {
  await workers?.stop();
  await sdk?.close();
  await t?.dispose();
});

/** `{"text":""}` is 11 bytes of JSON: a result of `chars` characters is `chars + 11` bytes. */
const RESULT_AT_LIMIT = MAX_RESULT_BYTES - 11;

it('fails a job whose result is over the limit at once, cuts long texts, and every watcher sees its job end', async () => {
  const cases = {
    atLimit: { how: 'return', chars: RESULT_AT_LIMIT },
    overLimit: { how: 'return', chars: RESULT_AT_LIMIT + 1 },
    longMessage: { how: 'report', chars: 2_000_000 },
    longError: { how: 'throw', chars: 2_000_000 },
  } as const;
  const ids: Record<string, string> = {};
  for (const [name, payload] of Object.entries(cases)) {
    const { job, userErrors } = await sdk.submitJob({ type: 'test.big', payload, maxAttempts: 3 });
    expect(userErrors).toEqual([]);
    ids[name] = job!.id;
  }
  // Watchers attached (each has its QUEUED snapshot) before any job runs: what follows is live.
  let attached = 0;
  let allAttached!: () => void;
  const ready = new Promise<void>((r) => (allAttached = r));
  const watch = async (id: string): Promise<JobUpdate[]> => {
    const seen: JobUpdate[] = [];
    for await (const u of sdk.watchJob(id)) {
      seen.push(u);
      if (seen.length === 1 && ++attached === Object.keys(ids).length) allAttached();
    }
    return seen;
  };
  const watches = Object.fromEntries(Object.entries(ids).map(([name, id]) => [name, watch(id)]));
  await ready;
  await workers.start();
  const seen: Record<string, JobUpdate[]> = {};
  for (const [name, w] of Object.entries(watches)) seen[name] = await w;
  const last = (name: string) => seen[name]!.at(-1)!;

  expect(last('atLimit')).toMatchObject({ state: 'SUCCEEDED' });
  expect((last('atLimit').result as { text: string }).text).toHaveLength(RESULT_AT_LIMIT);

  expect(last('overLimit')).toMatchObject({ state: 'FAILED', attempt: 1 });
  expect(last('overLimit').error).toBe(
    `the handler's result is ${MAX_RESULT_BYTES + 1} bytes as JSON; the maximum is ${MAX_RESULT_BYTES} (store large outputs elsewhere and return a reference)`,
  );

  const cut = `${'x'.repeat(MAX_TEXT_LENGTH - 1)}…`;
  expect(seen.longMessage!.find((u) => u.state === 'RUNNING' && u.progress === 50)?.message).toBe(cut);
  expect(last('longMessage')).toMatchObject({ state: 'SUCCEEDED', message: cut });

  expect(last('longError')).toMatchObject({ state: 'FAILED', error: cut, attempt: 1 });

  // And that is what the job itself says.
  const rows = await t.env.sql<{ id: string; state: string; attempts: number; error: string | null; progressMessage: string | null }[]>`
    select id, state, attempts, error, progress_message as "progressMessage" from jobs where type = 'test.big'`;
  const byId = new Map(rows.map((r) => [r.id, r]));
  expect(byId.get(ids.overLimit!)).toMatchObject({ state: 'FAILED', attempts: 1, error: last('overLimit').error });
  expect(byId.get(ids.longMessage!)).toMatchObject({ state: 'SUCCEEDED', progressMessage: cut });
  expect(byId.get(ids.longError!)).toMatchObject({ state: 'FAILED', attempts: 1, error: cut });
});
