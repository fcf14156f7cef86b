/**
 * The SDK sends concurrent `submitJob` calls as one `submitJobs` request, and each call still gets the
 * answer its own `submitJob` would have got: its job, or its user errors; a batch the server refuses as a
 * whole (here: a body over the server's limit) is sent again one call at a time.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, type LongrunClient } from '../../sdk/index.js';
import type { SubmitJobInput } from '../../sdk/generated/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
// A body limit below the SDK's batch size in bytes, so that a burst of large inputs is refused as a whole.
beforeAll(async () => (t = await startTestApp({ handlers: null, config: { HTTP_BODY_LIMIT_BYTES: String(300 * 1024) } })));
afterAll(async () => t?.dispose());

/** A client that records the operation of every HTTP request it makes. */
function counting(batchSubmits?: boolean): { client: LongrunClient; requests: string[] } {
  const requests: string[] = [];
  const client = createClient({
    url: t.url,
    token: t.key ?? undefined,
    ...(batchSubmits === undefined ? {} : { batchSubmits }),
    fetch: (url, init) => {
      requests.push(/mutation (\w+)/.exec(JSON.parse(String(init?.body)).query)?.[1] ?? 'other');
      return fetch(url, init);
    },
  });
  return { client, requests };
}

const sleepJob = (ms: number): SubmitJobInput => ({ type: 'demo.sleep', payload: { ms, steps: 1 } });

it('sends a burst of submitJob calls as one request and gives each call its own job', async () => {
  const { client, requests } = counting();
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => client.submitJob(sleepJob(i))));
  expect(requests).toEqual(['SubmitJobs']);
  expect(answers.every((a) => a.userErrors.length === 0)).toBe(true);
  expect(answers.map((a) => a.job?.payload)).toEqual(Array.from({ length: 300 }, (_, i) => ({ ms: i, steps: 1 })));
  const ids = answers.map((a) => a.job!.id);
  expect(new Set(ids).size).toBe(300);
  const stored = await t.app.deps.sql<{ id: string; ms: number }[]>`
    select id, (payload->>'ms')::int as ms from jobs where id = any(${ids}::uuid[])`;
  expect(new Map(stored.map((r) => [r.id, r.ms]))).toEqual(new Map(ids.map((id, i) => [id, i])));
});

it("gives an invalid call its own errors, exactly as submitJob alone, and the valid ones their jobs", async () => {
  const { client, requests } = counting();
  const inputs = Array.from({ length: 20 }, (_, i) => (i === 5 ? { type: 'no.such.type', payload: {} } : sleepJob(i)));
  const answers = await Promise.all(inputs.map((input) => client.submitJob(input)));
  const alone = await counting(false).client.submitJob(inputs[5]!);
  expect(answers[5]).toEqual(alone);
  expect(alone).toMatchObject({ job: null, userErrors: [{ code: 'UNKNOWN_JOB_TYPE', field: ['input', 'type'] }] });
  for (const [i, a] of answers.entries()) if (i !== 5) expect(a).toMatchObject({ job: { type: 'demo.sleep', payload: { ms: i } }, userErrors: [] });
  // The batch wrote nothing (all or nothing), then each call went alone.
  expect(requests).toEqual(['SubmitJobs', ...Array(20).fill('SubmitJob')]);
  const written = await t.app.deps.sql<{ n: number }[]>`select count(*)::int as n from jobs where id = any(${answers.filter((a) => a.job).map((a) => a.job!.id)}::uuid[])`;
  expect(written[0]!.n).toBe(19);
});

it('gives two calls with one idempotency key the same job, as two separate calls would', async () => {
  const { client } = counting();
  const input = { ...sleepJob(1), idempotencyKey: `batch-key-${Date.now()}` };
  const [a, b] = await Promise.all([client.submitJob(input), client.submitJob(input)]);
  expect(a.job!.id).toBe(b.job!.id);
});

it('sends a batch the server refuses as too large again one call at a time', async () => {
  const { client, requests } = counting();
  // Ten inputs of 50 KiB: one request of about 500 KiB is over the app's 300 KiB limit; each alone is not.
  const big = (i: number): SubmitJobInput => ({ type: 'demo.noop', payload: { i, note: 'x'.repeat(50 * 1024) } });
  const answers = await Promise.all(Array.from({ length: 10 }, (_, i) => client.submitJob(big(i))));
  expect(requests).toEqual(['SubmitJobs', ...Array(10).fill('SubmitJob')]);
  expect(answers.map((a) => a.userErrors)).toEqual(Array(10).fill([]));
  expect(answers.map((a) => (a.job!.payload as { i: number }).i)).toEqual(Array.from({ length: 10 }, (_, i) => i));
  expect(new Set(answers.map((a) => a.job!.id)).size).toBe(10);
});

it('sends one request per call with batchSubmits: false', async () => {
  const { client, requests } = counting(false);
  await Promise.all(Array.from({ length: 5 }, (_, i) => client.submitJob(sleepJob(i))));
  expect(requests).toEqual(Array(5).fill('SubmitJob'));
});
