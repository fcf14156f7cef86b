/**
 * The SDK sends concurrent `submitJob` calls as one `submitJobs` request, and each call still gets the
 * answer its own `submitJob` would have got: its job, or its user errors; a batch the server refuses as a
 * whole (a body over the server's limit, more jobs than the key's submit rate allows) is sent again one call
 * at a time.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, LongrunError, type LongrunClient } from '../../sdk/index.js';
import type { SubmitJobInput } from '../../sdk/generated/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
// A body limit below the SDK's batch size in bytes, so that a burst of large inputs is refused as a whole.
beforeAll(async () => (t = await startTestApp({ handlers: null, config: { HTTP_BODY_LIMIT_BYTES: String(300 * 1024) } })));
afterAll(async () => t?.dispose());

/** A client (of `app`, with its key) that records the operation of every HTTP request it makes. */
function counting(batchSubmits?: boolean, app: TestApp = t): { client: LongrunClient; requests: string[] } {
  const requests: string[] = [];
  const client = createClient({
    url: app.url,
    token: app.key ?? undefined,
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

/** An app of its own whose keys may submit `burst` jobs at once, then one every 100 s: past the end of the test. */
function useRateLimitedApp(burst: number): { readonly app: TestApp } {
  let app: TestApp | undefined;
  beforeAll(async () => (app = await startTestApp({ handlers: null, config: { SUBMIT_RATE_PER_SEC: '0.01', SUBMIT_BURST: String(burst) } })));
  afterAll(async () => app?.dispose());
  return {
    get app() {
      return app!;
    },
  };
}

describe('with a submit rate limit', () => {
  const rated = useRateLimitedApp(3);

  it('sends a batch answered RATE_LIMITED again one call at a time: 3 calls get their own jobs, 2 their own RATE_LIMITED', async () => {
    const { client, requests } = counting(undefined, rated.app);
    const settled = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => client.submitJob(sleepJob(i))));
    expect(requests).toEqual(['SubmitJobs', ...Array(5).fill('SubmitJob')]);
    // The single calls go out together: which 3 the server takes first is not fixed.
    const passed = settled.flatMap((s, i) => (s.status === 'fulfilled' ? [{ i, answer: s.value }] : []));
    const refused = settled.flatMap((s) => (s.status === 'rejected' ? [s.reason as unknown] : []));
    expect(passed).toHaveLength(3);
    for (const { i, answer } of passed) expect(answer).toMatchObject({ job: { type: 'demo.sleep', payload: { ms: i, steps: 1 } }, userErrors: [] });
    expect(new Set(passed.map((p) => p.answer.job!.id)).size).toBe(3);
    // What submitJob alone answers now that the key's bucket is empty; its `retry in N s` may have ticked.
    const alone = await counting(false, rated.app).client.submitJob(sleepJob(5)).then(
      () => expect.fail('submitJob alone was not rate limited'),
      (e: unknown) => e as LongrunError,
    );
    const seen = (e: LongrunError) => ({ type: e.constructor, code: e.code, message: e.message.replace(/\d+ s$/, 'N s'), retryAfter: typeof e.errors[0]?.extensions?.['retryAfter'] });
    expect(seen(alone)).toEqual({ type: LongrunError, code: 'RATE_LIMITED', message: 'too many jobs submitted with this key; retry in N s', retryAfter: 'number' });
    expect(refused).toHaveLength(2);
    for (const e of refused) expect(seen(e as LongrunError)).toEqual(seen(alone));
    const [row] = await rated.app.app.deps.sql<{ n: number }[]>`select count(*)::int as n from jobs`;
    expect(row!.n).toBe(3);
  });
});

describe('with a submit rate limit the burst fits in', () => {
  // 20 calls fit in 30, sent together or one by one, but not twice over.
  const rated = useRateLimitedApp(30);

  it('gives a burst with one invalid call what 20 calls alone get: 19 jobs and the invalid one its error, no RATE_LIMITED', async () => {
    const { client, requests } = counting(undefined, rated.app);
    const inputs = Array.from({ length: 20 }, (_, i) => (i === 5 ? { type: 'no.such.type', payload: {} } : sleepJob(i)));
    const settled = await Promise.allSettled(inputs.map((input) => client.submitJob(input)));
    expect(requests).toEqual(['SubmitJobs', ...Array(20).fill('SubmitJob')]);
    const seen = settled.map((s) => (s.status === 'rejected' ? (s.reason as LongrunError).code : s.value.job ? 'job' : s.value.userErrors[0]!.code));
    expect(seen).toEqual(inputs.map((_, i) => (i === 5 ? 'UNKNOWN_JOB_TYPE' : 'job')));
    // The refused batch and the refused call wrote nothing and used none of the key's rate: 11 jobs still fit.
    const more = await client.submitJobs(Array.from({ length: 11 }, (_, i) => sleepJob(100 + i)));
    expect(more.userErrors).toEqual([]);
    expect(more.jobs).toHaveLength(11);
    await expect(client.submitJob(sleepJob(200))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
