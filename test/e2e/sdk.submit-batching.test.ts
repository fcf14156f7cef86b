/**
 * The SDK sends concurrent `submitJob` calls as one `submitJobs` request, and each call still gets the
 * answer its own `submitJob` would have got: its job, its user errors, or the RATE_LIMITED or
 * PAYLOAD_TOO_LARGE error it would have got alone. A batch the server refuses costs a few more requests,
 * not one per call: each test counts the requests on the wire (operation, inputs, HTTP status).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient, LongrunError, type LongrunClient } from '../../sdk/index.js';
import type { SubmitJobInput } from '../../sdk/generated/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
// A body limit below the SDK's batch size in bytes, so that a burst of large inputs is refused as a whole.
beforeAll(async () => (t = await startTestApp({ handlers: null, config: { HTTP_BODY_LIMIT_BYTES: String(300 * 1024) } })));
afterAll(async () => t?.dispose());

/**
 * A client of `app` (with `token`, else the app's key) that records every HTTP request it makes, as
 * `SubmitJobs(300) 429` (operation, inputs, HTTP status) or `SubmitJob 200`.
 */
function counting(o: { batchSubmits?: boolean; app?: TestApp; token?: string } = {}): { client: LongrunClient; requests: string[] } {
  const app = o.app ?? t;
  const requests: string[] = [];
  const client = createClient({
    url: app.url,
    token: o.token ?? app.key ?? undefined,
    ...(o.batchSubmits === undefined ? {} : { batchSubmits: o.batchSubmits }),
    fetch: async (url, init) => {
      const body = JSON.parse(String(init?.body)) as { query: string; variables: { inputs?: unknown[] } };
      const op = /mutation (\w+)/.exec(body.query)?.[1] ?? 'other';
      const res = await fetch(url, init);
      requests.push(`${op}${body.variables.inputs ? `(${body.variables.inputs.length})` : ''} ${res.status}`);
      return res;
    },
  });
  return { client, requests };
}

/** What `submitJob` alone answers for `input` (its error, when it throws). */
const alone = (input: SubmitJobInput, o: { app?: TestApp; token?: string } = {}) =>
  counting({ ...o, batchSubmits: false }).client.submitJob(input).catch((e: unknown) => e);

const sleepJob = (ms: number): SubmitJobInput => ({ type: 'demo.sleep', payload: { ms, steps: 1 } });
const settle = <T>(calls: Promise<T>[]) => Promise.allSettled(calls);

it('sends a burst of submitJob calls as one request and gives each call its own job', async () => {
  const { client, requests } = counting();
  const answers = await Promise.all(Array.from({ length: 300 }, (_, i) => client.submitJob(sleepJob(i))));
  expect(requests).toEqual(['SubmitJobs(300) 200']);
  expect(answers.every((a) => a.userErrors.length === 0)).toBe(true);
  expect(answers.map((a) => a.job?.payload)).toEqual(Array.from({ length: 300 }, (_, i) => ({ ms: i, steps: 1 })));
  const ids = answers.map((a) => a.job!.id);
  expect(new Set(ids).size).toBe(300);
  const stored = await t.app.deps.sql<{ id: string; ms: number }[]>`
    select id, (payload->>'ms')::int as ms from jobs where id = any(${ids}::uuid[])`;
  expect(new Map(stored.map((r) => [r.id, r.ms]))).toEqual(new Map(ids.map((id, i) => [id, i])));
});

it('answers the invalid calls of a burst from the batch, exactly as submitJob alone, and sends the rest once more', async () => {
  const { client, requests } = counting();
  const invalid: Record<number, SubmitJobInput> = {
    5: { type: 'no.such.type', payload: {} },
    40: { type: 'demo.sleep', payload: { ms: 'x', steps: 1 } },
    41: { ...sleepJob(1), maxAttempts: 0 },
    170: { type: 'demo.sleep', payload: { ms: -1, steps: 1, extra: true }, timeoutMs: 0 },
    299: { ...sleepJob(1), notify: [{}] },
  };
  const inputs = Array.from({ length: 300 }, (_, i) => invalid[i] ?? sleepJob(i));
  const answers = await Promise.all(inputs.map((input) => client.submitJob(input)));
  // The batch wrote nothing (all or nothing); the invalid calls were answered from it, the valid ones sent again together.
  expect(requests).toEqual(['SubmitJobs(300) 200', 'SubmitJobs(295) 200']);
  for (const [i, input] of Object.entries(invalid)) expect(answers[Number(i)]).toEqual(await alone(input));
  // What was compared: each call's own errors, with the paths of submitJob.
  expect(Object.keys(invalid).map((i) => answers[Number(i)]!.userErrors.map((e) => [e.code, e.field!.join('.')]))).toEqual([
    [['UNKNOWN_JOB_TYPE', 'input.type']],
    [['INVALID_PAYLOAD', 'input.payload.ms']],
    [['OUT_OF_RANGE', 'input.maxAttempts']],
    [['INVALID_PAYLOAD', 'input.payload.ms'], ['INVALID_PAYLOAD', 'input.payload'], ['OUT_OF_RANGE', 'input.timeoutMs']],
    [['INVALID_NOTIFY', 'input.notify.0']],
  ]);
  for (const [i, a] of answers.entries()) {
    if (!invalid[i]) expect(a).toMatchObject({ job: { type: 'demo.sleep', payload: { ms: i } }, userErrors: [] });
  }
  const written = await t.app.deps.sql<{ n: number }[]>`select count(*)::int as n from jobs where id = any(${answers.filter((a) => a.job).map((a) => a.job!.id)}::uuid[])`;
  expect(written[0]!.n).toBe(295);
});

it('answers a call whose idempotency key a stored job holds at once, and sends one whose key another input gives alone after the rest, as submitJob alone would be answered', async () => {
  const stamp = Date.now();
  const stored = (await alone({ type: 'demo.noop', idempotencyKey: `held-${stamp}` })) as { job: { id: string } };
  const { client, requests } = counting();
  const inputs = Array.from({ length: 10 }, (_, i) => sleepJob(i));
  inputs[2] = { ...sleepJob(2), idempotencyKey: `pair-${stamp}` };
  inputs[4] = { ...sleepJob(4), idempotencyKey: `held-${stamp}` }; // held by the stored demo.noop job
  inputs[6] = { type: 'demo.noop', idempotencyKey: `pair-${stamp}` }; // input 2's key, another type
  const answers = await Promise.all(inputs.map((input) => client.submitJob(input)));
  // The batch reports input 6 (its key is input 2's): it goes alone, last. The other nine report input 4
  // (its key is stored): alone it would get the same refusal, so it gets it without a request of its own.
  expect(requests).toEqual(['SubmitJobs(10) 200', 'SubmitJobs(9) 200', 'SubmitJobs(8) 200', 'SubmitJob 200']);
  expect(answers[2]).toMatchObject({ job: { type: 'demo.sleep' }, userErrors: [] });
  expect(answers[4]).toEqual(await alone(inputs[4]!));
  expect(answers[6]).toEqual(await alone(inputs[6]!));
  expect(answers[4]!.userErrors).toEqual([
    { code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'], message: `idempotencyKey "held-${stamp}" names job ${stored.job.id}, of type demo.noop, not demo.sleep` },
  ]);
  expect(answers[6]!.userErrors).toEqual([
    { code: 'IDEMPOTENCY_KEY_REUSED', field: ['input', 'idempotencyKey'], message: `idempotencyKey "pair-${stamp}" names job ${answers[2]!.job!.id}, of type demo.sleep, not demo.noop` },
  ]);
  for (const i of [0, 1, 3, 5, 7, 8, 9]) expect(answers[i]).toMatchObject({ job: { type: 'demo.sleep', payload: { ms: i } }, userErrors: [] });
});

it('gives two calls with one idempotency key the same job, as two separate calls would', async () => {
  const { client } = counting();
  const input = { ...sleepJob(1), idempotencyKey: `batch-key-${Date.now()}` };
  const [a, b] = await Promise.all([client.submitJob(input), client.submitJob(input)]);
  expect(a.job!.id).toBe(b.job!.id);
});

const big = (i: number, kib = 50): SubmitJobInput => ({ type: 'demo.noop', payload: { i, note: 'x'.repeat(kib * 1024) } });

it('sends a batch over the body limit again in halves, and later bursts under half the size', async () => {
  const { client, requests } = counting();
  // Ten inputs of 50 KiB: one request of about 500 KiB is over the app's 300 KiB limit; five, 250 KiB, are not.
  // (Every input has the same size: `i` has two digits.)
  const first = await Promise.all(Array.from({ length: 10 }, (_, i) => client.submitJob(big(10 + i))));
  expect(requests).toEqual(['SubmitJobs(10) 413', 'SubmitJobs(5) 200', 'SubmitJobs(5) 200']);
  const later = await Promise.all(Array.from({ length: 10 }, (_, i) => client.submitJob(big(20 + i))));
  expect(requests.slice(3)).toEqual(['SubmitJobs(5) 200', 'SubmitJobs(5) 200']);
  const answers = [...first, ...later];
  expect(answers.map((a) => a.userErrors)).toEqual(Array(20).fill([]));
  expect(answers.map((a) => (a.job!.payload as { i: number }).i)).toEqual(Array.from({ length: 20 }, (_, i) => 10 + i));
  expect(new Set(answers.map((a) => a.job!.id)).size).toBe(20);
});

it('gives a call too large alone the PAYLOAD_TOO_LARGE that submitJob alone gets, and the others their jobs', async () => {
  const { client, requests } = counting();
  const inputs = [sleepJob(0), sleepJob(1), big(2, 320), sleepJob(3), sleepJob(4)];
  const settled = await settle(inputs.map((input) => client.submitJob(input)));
  expect(requests).toEqual(['SubmitJobs(5) 413', 'SubmitJobs(2) 200', 'SubmitJob 413', 'SubmitJobs(2) 200']);
  const own = await alone(inputs[2]!);
  expect(own).toBeInstanceOf(LongrunError);
  expect(settled[2]).toEqual({ status: 'rejected', reason: own });
  expect(own).toMatchObject({ code: 'PAYLOAD_TOO_LARGE', message: 'request body too large' });
  for (const i of [0, 1, 3, 4]) expect(settled[i]).toMatchObject({ status: 'fulfilled', value: { job: { payload: { ms: i } }, userErrors: [] } });
});

it('gives a call GraphQL cannot take as input (maxAttempts 1.5, a string) the BAD_USER_INPUT of submitJob alone, and the others their jobs', async () => {
  const { client, requests } = counting();
  const inputs = [sleepJob(0), { ...sleepJob(1), maxAttempts: 1.5 }, sleepJob(2), { ...sleepJob(3), maxAttempts: '3' as unknown as number }, sleepJob(4)];
  const settled = await settle(inputs.map((input) => client.submitJob(input)));
  expect(requests).toEqual(['SubmitJobs(5) 400', 'SubmitJobs(3) 200', 'SubmitJob 400', 'SubmitJob 400']);
  for (const i of [1, 3]) {
    const own = await alone(inputs[i]!);
    expect(own).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^Variable "\$input" got invalid value .* at "input\.maxAttempts"/) });
    expect(settled[i]).toEqual({ status: 'rejected', reason: own });
  }
  for (const i of [0, 2, 4]) expect(settled[i]).toMatchObject({ status: 'fulfilled', value: { job: { payload: { ms: i } }, userErrors: [] } });
});

it('fails the calls not sent yet when the client is closed with CLOSED, and sends none of them after the close', async () => {
  let answer!: () => void;
  const answering = new Promise<void>((resolve) => (answer = resolve));
  const sent: number[] = []; // the inputs of each request
  const client = createClient({
    url: t.url,
    token: t.key!,
    fetch: async (url, init) => {
      sent.push((JSON.parse(String(init?.body)) as { variables: { inputs: unknown[] } }).variables.inputs.length);
      await answering;
      return fetch(url, init);
    },
  });
  // Five bursts of two calls, each in a turn of its own: four batches go out (at most four are open), the fifth waits.
  const bursts: Promise<PromiseSettledResult<Awaited<ReturnType<LongrunClient['submitJob']>>>[]>[] = [];
  for (let b = 0; b < 5; b++) {
    bursts.push(settle([client.submitJob(sleepJob(b * 10)), client.submitJob(sleepJob(b * 10 + 1))]));
    await new Promise((resolve) => setImmediate(resolve));
  }
  expect(sent).toEqual([2, 2, 2, 2]);
  await client.close();
  answer();
  const settled = await Promise.all(bursts);
  const failures = (s: (typeof settled)[number]) =>
    s.map((r) => r.status === 'rejected' && [r.reason.constructor, (r.reason as LongrunError).code, (r.reason as LongrunError).message]);
  // The four batches sent wait for their answers (the fetch holds them): the close fails them too, as it fails any request still waiting.
  for (const s of settled.slice(0, 4)) {
    expect(failures(s)).toEqual(Array(2).fill([LongrunError, 'CLOSED', 'the client was closed while the request waited for its answer']));
  }
  expect(failures(settled[4]!)).toEqual(Array(2).fill([LongrunError, 'CLOSED', 'the client was closed before this submitJob was sent: no job was submitted for it']));
  expect(sent).toEqual([2, 2, 2, 2]);
});

it('sends one request per call with batchSubmits: false', async () => {
  const { client, requests } = counting({ batchSubmits: false });
  await Promise.all(Array.from({ length: 5 }, (_, i) => client.submitJob(sleepJob(i))));
  expect(requests).toEqual(Array(5).fill('SubmitJob 200'));
});

describe('with a submit rate limit', () => {
  // Keys of this app may submit 50 jobs at once, then one every 100 s: past the end of the test. Each test
  // has a key (and owner) of its own.
  let app: TestApp;
  beforeAll(async () => (app = await startTestApp({ handlers: null, config: { SUBMIT_RATE_PER_SEC: '0.01', SUBMIT_BURST: '50' } })));
  afterAll(async () => app?.dispose());
  const newKey = async (owner: string) => (await app.createKey(owner)).key;

  /** A RATE_LIMITED error as the user sees it; its `retry in N s` may tick between two answers. */
  const seen = (e: unknown) => {
    const err = e as LongrunError;
    const ext = err.errors[0]?.extensions ?? {};
    return { type: err.constructor, code: err.code, message: err.message.replace(/\d+ s$/, 'N s'), extensions: { ...ext, retryAfter: typeof ext['retryAfter'] } };
  };
  const stored = async (owner: string) => (await app.app.deps.sql<{ n: number }[]>`select count(*)::int as n from jobs where owner = ${owner}`)[0]!.n;

  it('a burst over the key burst: the calls that fit get jobs, the rest the RATE_LIMITED of submitJob alone, in 3 requests', async () => {
    const token = await newKey('over-burst');
    const { client, requests } = counting({ app, token });
    const settled = await settle(Array.from({ length: 300 }, (_, i) => client.submitJob(sleepJob(i))));
    // 300 is over the burst (limit 50) and 50 fit; once they are in, one call alone finds the bucket empty.
    expect(requests).toEqual(['SubmitJobs(300) 429', 'SubmitJobs(50) 200', 'SubmitJob 429']);
    for (let i = 0; i < 50; i++) expect(settled[i]).toMatchObject({ status: 'fulfilled', value: { job: { payload: { ms: i } }, userErrors: [] } });
    const own = seen(await alone(sleepJob(999), { app, token }));
    expect(own).toEqual({
      type: LongrunError,
      code: 'RATE_LIMITED',
      message: 'too many jobs submitted with this key; retry in N s',
      extensions: { code: 'RATE_LIMITED', retryAfter: 'number', remaining: 0 },
    });
    for (const s of settled.slice(50)) expect(s.status === 'rejected' && seen(s.reason)).toEqual(own);
    expect(await stored('over-burst')).toBe(50);

    // The key's burst is remembered: no request carries more than 50 calls. The three batches go out at
    // once (at most 4 open); each is refused, then one call of each alone.
    const later = await settle(Array.from({ length: 120 }, (_, i) => client.submitJob(sleepJob(i))));
    expect(requests.slice(3).sort()).toEqual(['SubmitJob 429', 'SubmitJob 429', 'SubmitJob 429', 'SubmitJobs(20) 429', 'SubmitJobs(50) 429', 'SubmitJobs(50) 429']);
    for (const s of later) expect(s.status === 'rejected' && seen(s.reason)).toEqual(own);
    expect(await stored('over-burst')).toBe(50);
  });

  it('a burst when the bucket is nearly empty: as many as fit get jobs, the rest the RATE_LIMITED of submitJob alone', async () => {
    const token = await newKey('mid-burst');
    const { client, requests } = counting({ app, token });
    expect((await client.submitJobs(Array.from({ length: 45 }, (_, i) => sleepJob(i)))).jobs).toHaveLength(45);
    const settled = await settle(Array.from({ length: 20 }, (_, i) => client.submitJob(sleepJob(100 + i))));
    expect(requests).toEqual(['SubmitJobs(45) 200', 'SubmitJobs(20) 429', 'SubmitJobs(5) 200', 'SubmitJob 429']);
    for (let i = 0; i < 5; i++) expect(settled[i]).toMatchObject({ status: 'fulfilled', value: { job: { payload: { ms: 100 + i } } } });
    const own = seen(await alone(sleepJob(999), { app, token }));
    expect(own).toMatchObject({ code: 'RATE_LIMITED', extensions: { retryAfter: 'number', remaining: 0 } });
    for (const s of settled.slice(5)) expect(s.status === 'rejected' && seen(s.reason)).toEqual(own);
    expect(await stored('mid-burst')).toBe(50);
  });

  it('a burst with a call GraphQL cannot take as input when the bucket is nearly empty: that call gets the BAD_USER_INPUT of submitJob alone, not RATE_LIMITED', async () => {
    const token = await newKey('uncoercible-limited');
    const { client, requests } = counting({ app, token });
    expect((await client.submitJobs(Array.from({ length: 45 }, (_, i) => sleepJob(i)))).jobs).toHaveLength(45);
    const inputs = Array.from({ length: 20 }, (_, i) => (i === 10 ? { ...sleepJob(100 + i), maxAttempts: 1.5 } : sleepJob(100 + i)));
    const settled = await settle(inputs.map((input) => client.submitJob(input)));
    // Alone, it is refused before the rate is checked (and charged nothing): the empty bucket does not answer for it.
    expect(requests).toEqual(['SubmitJobs(45) 200', 'SubmitJobs(20) 400', 'SubmitJobs(19) 429', 'SubmitJobs(5) 200', 'SubmitJob 429', 'SubmitJob 400']);
    const own = await alone(inputs[10]!, { app, token });
    expect(own).toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^Variable "\$input" got invalid value .* at "input\.maxAttempts"/) });
    expect(settled[10]).toEqual({ status: 'rejected', reason: own });
    for (let i = 0; i < 5; i++) expect(settled[i]).toMatchObject({ status: 'fulfilled', value: { job: { payload: { ms: 100 + i } } } });
    const limited = seen(await alone(sleepJob(999), { app, token }));
    expect(limited).toMatchObject({ code: 'RATE_LIMITED', extensions: { retryAfter: 'number', remaining: 0 } });
    for (const [i, s] of settled.entries()) if (i >= 5 && i !== 10) expect(s.status === 'rejected' && seen(s.reason)).toEqual(limited);
    expect(await stored('uncoercible-limited')).toBe(50);
  });

  it('a burst with one invalid call that fits: 19 jobs and the invalid one its error, counted once on the rate', async () => {
    const token = await newKey('invalid-fits');
    const { client, requests } = counting({ app, token });
    const inputs = Array.from({ length: 20 }, (_, i) => (i === 5 ? { type: 'no.such.type', payload: {} } : sleepJob(i)));
    const settled = await settle(inputs.map((input) => client.submitJob(input)));
    expect(requests).toEqual(['SubmitJobs(20) 200', 'SubmitJobs(19) 200']);
    const seenCodes = settled.map((s) => (s.status === 'rejected' ? (s.reason as LongrunError).code : s.value.job ? 'job' : s.value.userErrors[0]!.code));
    expect(seenCodes).toEqual(inputs.map((_, i) => (i === 5 ? 'UNKNOWN_JOB_TYPE' : 'job')));
    // The refused batch and the invalid call used none of the key's rate: 31 more jobs fit, not 32.
    const more = await client.submitJobs(Array.from({ length: 31 }, (_, i) => sleepJob(100 + i)));
    expect(more.userErrors).toEqual([]);
    expect(more.jobs).toHaveLength(31);
    await expect(client.submitJob(sleepJob(200))).rejects.toMatchObject({ code: 'RATE_LIMITED' });
  });
});
