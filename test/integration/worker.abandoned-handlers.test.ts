/**
 * A handler that ignores `ctx.signal` runs on after its attempt times out, outside WORKER_CONCURRENCY. The
 * worker counts it in `longrun_worker_abandoned_handlers` and warns, until it finally returns; a handler that
 * stops on its signal never moves the gauge.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { createLogger } from '../../src/log.js';
import { defineHandler } from '../../workers/handler.js';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

/** Resolves only when the test calls its release, whatever its signal says. */
const deaf = defineJobType({ name: 'test.deaf', description: 'ignores its signal', payload: z.object({}) });
const releases = new Map<string, () => void>();
const deafHandler = defineHandler(deaf, (_p, ctx) => new Promise<string>((resolve) => releases.set(ctx.jobId, () => resolve('late'))));

/** Rejects as soon as its signal aborts. */
const heeding = defineJobType({ name: 'test.heeding', description: 'stops on its signal', payload: z.object({}) });
const heedingHandler = defineHandler(heeding, (_p, ctx) => new Promise<never>((_resolve, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));

type Line = { level: number; msg: string; jobId?: string; type?: string; attempt?: number; reason?: string; pastAbortMs?: number };
const logs: Line[] = [];
const its = useFixture(async (later) => {
  const app = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, deaf, heeding],
    handlers: [deafHandler, heedingHandler],
    log: createLogger('info', 'longrun', { write: (line: string) => void logs.push(JSON.parse(line)) }),
  });
  later(() => app.dispose());
  return { app };
});

/** The gauge's sample for `type` on the API's /metrics (the pool runs in that process); null when it has none. */
async function abandoned(type: string): Promise<number | null> {
  const text = await (await fetch(new URL('/metrics', its.app.url))).text();
  const m = new RegExp(`^longrun_worker_abandoned_handlers\\{type="${type}"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

/** Submits a job of `type` that times out after 300 ms, with one attempt, and waits until it FAILED. */
async function timedOut(type: string): Promise<string> {
  const r = await gql(its.app.url, SUBMIT, { input: { type, payload: {}, timeoutMs: 300, maxAttempts: 1 } });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  const id = r.body.data.submitJob.job.id as string;
  expect(await waitForJob(its.app.url, id, (j) => j.state === 'FAILED')).toMatchObject({ error: 'timed out after 300 ms', attempts: 1 });
  return id;
}

it('a handler running on after its timeout counts in the gauge and is warned about until it returns', async () => {
  const id = await timedOut('test.deaf');
  expect(await abandoned('test.deaf')).toBe(1);
  const warnings = logs.filter((l) => l.level === 40 && l.jobId === id);
  expect(warnings).toHaveLength(1);
  expect(warnings[0]).toMatchObject({ type: 'test.deaf', attempt: 1, reason: 'timeout' });
  expect(warnings[0]!.msg).toMatch(/still running after its attempt was aborted/);

  releases.get(id)!();
  await eventually(async () => (await abandoned('test.deaf')) === 0, 5000, 'the gauge back at 0');
  const settled = logs.filter((l) => l.level === 30 && l.jobId === id && l.msg === 'abandoned handler settled');
  expect(settled).toHaveLength(1);
  expect(settled[0]).toMatchObject({ reason: 'timeout' });
  expect(settled[0]!.pastAbortMs).toBeGreaterThanOrEqual(0);
  expect(logs.filter((l) => l.level === 40 && l.jobId === id)).toHaveLength(1); // warned once
  expect(await waitForJob(its.app.url, id, () => true)).toMatchObject({ state: 'FAILED', result: null });
});

it('a handler that rejects on its signal never moves the gauge', async () => {
  const id = await timedOut('test.heeding');
  await new Promise((r) => setTimeout(r, 200));
  expect(await abandoned('test.heeding')).toBeNull(); // never incremented: no sample for the type at all
  expect(logs.filter((l) => l.jobId === id && /abandoned|still running/.test(l.msg))).toEqual([]);
});
