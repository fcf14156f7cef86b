/**
 * The dead-letter stream deleted alone while longrun runs (an operator's mistake; its other streams and
 * consumers still there, so no pull fails): a job that fails for good still gets its copy and is listed as a
 * dead letter. The copy's failure ("stream not found") makes the process set its streams up again
 * (stream-repair.ts), and the redelivered message is copied then. Before, every try failed the same way until
 * a longrun process restarted: the job stayed FAILED with no copy, and `deadLetters` never listed it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { failedAndListed } from '../support/dead-letter-copies.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.dispose();
});

it('a job failed for good after the dead-letter stream was deleted is copied into it, made again, and listed', async () => {
  const { nats, names } = t.app.deps;
  await nats.jsm.streams.delete(names.deadLetterStream);
  const { id, copy } = await failedAndListed(t, 60_000);
  expect(copy?.subject).toBe(names.deadLetterSubject('demo.flaky', id));
}, 120_000);
