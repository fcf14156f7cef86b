/**
 * A handler that computes without awaiting blocks the worker's event loop, and with it the in-progress acks
 * and lease renewals of every job the worker holds: past AckWait their messages are redelivered and another
 * worker may run them at the same time. The worker cannot prevent it, so it says so: a warning naming the
 * jobs it held, once the loop runs again. A handler that awaits as long causes none.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { createLogger } from '../../src/log.js';
import { defineHandler, sleep } from '../../workers/handler.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';

const busy = defineJobType({ name: 'test.busy', description: 'computes or waits', payload: z.object({ ms: z.number(), block: z.boolean() }) });
const busyHandler = defineHandler(busy, async ({ ms, block }, ctx) => {
  if (!block) return sleep(ms, ctx.signal);
  for (const end = Date.now() + ms; Date.now() < end; ); // no await: nothing else in this process runs
  return 'done';
});

const logs: { level: number; msg: string; jobs?: string[]; lateMs?: number; ackWaitMs?: number }[] = [];
/** The app, made before the tests (read `its.app` in a test: it exists from then on). */
const its = useFixture(async (later) => {
  const app = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, busy],
    handlers: [busyHandler],
    // In-progress acks every second; the handler blocks 1.6 s of the 3 s AckWait.
    config: { ACK_WAIT_MS: '3000' },
    log: createLogger('warn', 'longrun', { write: (line: string) => void logs.push(JSON.parse(line)) }),
  });
  later(() => app.dispose());
  return { app };
});

const run = async (block: boolean) => {
  const r = await gql(its.app.url, SUBMIT, { input: { type: 'test.busy', payload: { ms: 1600, block } } });
  const id = r.body.data.submitJob.job.id as string;
  expect(await waitForJob(its.app.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED')).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
  return id;
};
const blockedWarnings = () => logs.filter((l) => l.msg.startsWith('event loop blocked'));

it('a handler that waits 1.6 s (a third of AckWait and more) draws no warning', async () => {
  await run(false);
  expect(blockedWarnings()).toEqual([]);
});

it('a handler that blocks the event loop as long draws a warning naming the job, the delay and AckWait', async () => {
  const id = await run(true);
  const [warning] = blockedWarnings();
  expect(warning).toMatchObject({ level: 40, jobs: [id], ackWaitMs: 3000 });
  expect(warning!.lateMs).toBeGreaterThan(1000);
  expect(warning!.msg).toMatch(/redelivered and may run twice/);
});
