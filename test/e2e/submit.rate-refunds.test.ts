/**
 * A refused submit wrote nothing and does not count on the key's submit rate: one refused by validation
 * alone (before any database work), and one refused by what the database holds (an idempotency key taken by
 * a job of another type, found by a lone submit's insert or a batch's key read), are given their tokens back.
 * One whose variables GraphQL cannot coerce (BAD_USER_INPUT: it never runs) is not charged at all, nor is a
 * submit field left out by `@skip` / `@include`.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, collect, gql, SUBMIT, wsClient } from '../support/graphql.js';

const BATCH = `mutation B($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;

let t: TestApp;
// Each key may submit 4 jobs, then one every 100 s: past the end of the test.
beforeAll(async () => (t = await startTestApp({ handlers: null, config: { SUBMIT_RATE_PER_SEC: '0.01', SUBMIT_BURST: '4' } })));
afterAll(async () => t?.dispose());

/** Headers of a new key (its own owner, so its idempotency keys are its own). */
const newKey = async () => ({ authorization: bearer((await t.createKey(`rate-${Math.random()}`)).key) });

/** The code a submit (one `submitJob`, or one `submitJobs`) answers: 'job(s)', its first user error's, or the top-level error's. */
async function submit(headers: Record<string, string>, input: Record<string, unknown> | Record<string, unknown>[]): Promise<string> {
  const r = Array.isArray(input) ? await gql(t.url, BATCH, { inputs: input }, headers) : await gql(t.url, SUBMIT, { input }, headers);
  if (r.body.errors) return r.body.errors[0]!.extensions!.code!;
  const payload = Object.values(r.body.data)[0] as { userErrors: { code: string }[] };
  return payload.userErrors[0]?.code ?? 'ok';
}

it('refusals found in the input alone are not counted: 10 of them, then the 4 jobs of the burst still fit', async () => {
  const key = await newKey();
  for (let i = 0; i < 5; i++) expect(await submit(key, { type: 'no.such.type' })).toBe('UNKNOWN_JOB_TYPE');
  const twoTypesOneKey = [{ type: 'demo.noop', idempotencyKey: 'k' }, { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'k' }];
  for (let i = 0; i < 5; i++) expect(await submit(key, twoTypesOneKey)).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await submit(key, Array(4).fill({ type: 'demo.noop' }))).toBe('ok');
  expect(await submit(key, { type: 'demo.noop' })).toBe('RATE_LIMITED');
});

it('a lone submit whose idempotency key the insert finds on a job of another type is not counted', async () => {
  const key = await newKey();
  expect(await submit(key, { type: 'demo.noop', idempotencyKey: 'taken' })).toBe('ok'); // 1 of 4 taken
  for (let i = 0; i < 5; i++) expect(await submit(key, { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'taken' })).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await submit(key, Array(3).fill({ type: 'demo.noop' }))).toBe('ok');
  expect(await submit(key, { type: 'demo.noop' })).toBe('RATE_LIMITED');
});

it("a batch refused by its idempotency keys' read is not counted", async () => {
  const key = await newKey();
  expect(await submit(key, { type: 'demo.noop', idempotencyKey: 'taken' })).toBe('ok'); // 1 of 4 taken
  const refused = [{ type: 'demo.noop' }, { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'taken' }];
  for (let i = 0; i < 5; i++) expect(await submit(key, refused)).toBe('IDEMPOTENCY_KEY_REUSED');
  expect(await submit(key, Array(3).fill({ type: 'demo.noop' }))).toBe('ok');
  expect(await submit(key, { type: 'demo.noop' })).toBe('RATE_LIMITED');
});

it('a batch whose variables GraphQL cannot coerce (BAD_USER_INPUT, nothing runs) is not counted', async () => {
  const key = await newKey();
  // The SDK's batcher sends such a batch again without the input GraphQL named: it must not pay for it twice.
  const uncoercible = [{ type: 'demo.noop' }, { type: 'demo.noop', maxAttempts: 1.5 }, { type: 'demo.noop' }];
  for (let i = 0; i < 5; i++) expect(await submit(key, uncoercible)).toBe('BAD_USER_INPUT');
  expect(await submit(key, { type: 'demo.noop', timeoutMs: 'soon' })).toBe('BAD_USER_INPUT');
  expect(await submit(key, Array(4).fill({ type: 'demo.noop' }))).toBe('ok');
  expect(await submit(key, { type: 'demo.noop' })).toBe('RATE_LIMITED');
});

it('submit fields that @skip or @include leave out run nothing and are not charged', async () => {
  const key = await newKey();
  const field = (alias: string, directive: string) => `${alias}: submitJob(input: { type: "demo.noop" }) ${directive} { job { id } }`;
  const skipped = `mutation S($skip: Boolean!) { ${['a', 'b', 'c'].map((a) => field(a, '@skip(if: $skip)')).join(' ')} ${field('d', '@include(if: false)')} }`;
  for (let i = 0; i < 5; i++) expect((await gql(t.url, skipped, { skip: true }, key)).body).toEqual({ data: {} });
  expect(await submit(key, Array(4).fill({ type: 'demo.noop' }))).toBe('ok');
  expect(await submit(key, { type: 'demo.noop' })).toBe('RATE_LIMITED');
});

it('submit fields GraphQL merges into one (same response name and arguments) submit one job and are charged one', async () => {
  const key = await newKey();
  const one = (alias: string) => `${alias}: submitJob(input: $i) { job { id } }`;
  const merged = `mutation M($i: SubmitJobInput!) { ${one('a')} ${one('a')} ...F ...F } fragment F on Mutation { ${one('a')} }`;
  const ids = new Set<string>();
  for (let i = 0; i < 4; i++) {
    const r = await gql(t.url, merged, { i: { type: 'demo.noop' } }, key);
    expect(r.body.errors).toBeUndefined();
    ids.add(r.body.data.a.job.id);
  }
  expect(ids.size).toBe(4); // one job per operation: the burst's 4, each charged once
  const [row] = await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs where id = any(${[...ids]}::uuid[])`;
  expect(row!.n).toBe(4);
  expect(await submit(key, { type: 'demo.noop' })).toBe('RATE_LIMITED');
});

it('graphql-ws charges and gives back alike: refusals by validation or coercion are not counted, a fifth job is', async () => {
  const { authorization } = await newKey();
  const client = wsClient(t.wsUrl, { authorization });
  const code = async (input: Record<string, unknown>) => {
    const r = await collect<{ userErrors: { code: string }[] }>(client, SUBMIT, { input });
    return (r.errors[0] as { extensions?: { code?: string } } | undefined)?.extensions?.code ?? r.values[0]?.userErrors[0]?.code ?? 'ok';
  };
  try {
    for (let i = 0; i < 5; i++) expect(await code({ type: 'no.such.type' })).toBe('UNKNOWN_JOB_TYPE');
    for (let i = 0; i < 5; i++) expect(await code({ type: 'demo.noop', maxAttempts: 1.5 })).toBe('BAD_USER_INPUT');
    for (let i = 0; i < 4; i++) expect(await code({ type: 'demo.noop' })).toBe('ok');
    expect(await code({ type: 'demo.noop' })).toBe('RATE_LIMITED');
  } finally {
    await client.dispose();
  }
});
