/**
 * Every limit over HTTP: exceeded → its code, and the database and the jobs stream unchanged.
 * This app runs with small limits (depth 3, cost 200, 10 aliases, 2000 tokens, 3 jobs then 1 per second)
 * and no workers, so the stream only changes when a job is accepted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, collect, gql, SUBMIT, wsClient } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { snapshot } from '../support/snapshot.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    handlers: null,
    config: {
      GRAPHQL_MAX_DEPTH: '3',
      GRAPHQL_MAX_COST: '200',
      GRAPHQL_MAX_ALIASES: '10',
      GRAPHQL_MAX_TOKENS: '2000',
      SUBMIT_RATE_PER_SEC: '1',
      SUBMIT_BURST: '3',
    },
  });
});
afterAll(async () => {
  await t?.dispose();
});

const codes = (r: { body: { errors?: { extensions?: { code?: string } }[] } }) => [...new Set((r.body.errors ?? []).map((e) => e.extensions?.code))];
const noop = `submitJob(input: { type: "demo.noop" }) { job { id } }`;

async function post(body: string, headers: Record<string, string> = {}) {
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: bearer(t.key!), ...headers }, body });
  return { status: res.status, headers: res.headers, body: JSON.parse(await res.text()) };
}

describe('limits over HTTP: each answers its code and writes nothing', () => {
  // Each case runs with a fresh key, so the submit rate of one case does not spill into the next.
  const cases: [string, () => Promise<{ status: number; body: any }>, string, number?][] = [
    ['request body over HTTP_BODY_LIMIT_BYTES (3 MB)', () => post(JSON.stringify({ query: `mutation { ${noop} }`, variables: { pad: 'x'.repeat(3 * 1024 * 1024) } })), 'PAYLOAD_TOO_LARGE', 413],
    ['selection deeper than GRAPHQL_MAX_DEPTH', () => gql(t.url, `mutation { submitJob(input: { type: "demo.noop" }) { job { events(last: 1) { seq } } } }`), 'QUERY_TOO_DEEP', 400],
    ['estimated cost over GRAPHQL_MAX_COST (one field repeated 70 times)', () => gql(t.url, `mutation { ${Array(70).fill(noop).join(' ')} }`), 'QUERY_TOO_COSTLY', 400],
    ['connection page sizes multiply the cost', () => gql(t.url, `{ deadLetters(first: 100) { edges { node { id } } } }`), 'QUERY_TOO_COSTLY', 400],
    ['more aliases than GRAPHQL_MAX_ALIASES', () => gql(t.url, `mutation { ${Array.from({ length: 11 }, (_, i) => `a${i}: ${noop}`).join(' ')} }`), 'TOO_MANY_ALIASES', 400],
    ['more tokens than GRAPHQL_MAX_TOKENS (inline payload)', () => gql(t.url, `mutation { submitJob(input: { type: "demo.noop", payload: { list: [${Array(3000).fill(0).join(',')}] } }) { job { id } } }`), 'GRAPHQL_PARSE_FAILED', 400],
    ['batched operations (a JSON array)', () => post(JSON.stringify([{ query: `mutation { ${noop} }` }, { query: `mutation { ${noop} }` }])), 'BAD_REQUEST', 400],
    ['a "simple" cross-site request (text/plain): CSRF prevention', () => post(JSON.stringify({ query: `mutation { ${noop} }` }), { 'content-type': 'text/plain' }), 'BAD_REQUEST', 400],
    ['page size over 100', () => gql(t.url, `{ deadLetters(first: 101) { totalCount } }`), 'BAD_USER_INPUT'],
  ];

  it.each(cases)('%s', async (_, send, code, status) => {
    const before = await snapshot(t);
    const r = await send();
    expect(codes(r)).toContain(code);
    if (status) expect(r.status).toBe(status);
    expect(r.body.data ?? null).toBeNull();
    expect(await snapshot(t)).toEqual(before);
  });

  it('payload over MAX_PAYLOAD_BYTES (256 KiB): userError OUT_OF_RANGE on input.payload', async () => {
    const before = await snapshot(t);
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: { blob: 'x'.repeat(300 * 1024) } } });
    expect(r.body.data.submitJob).toMatchObject({ job: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['input', 'payload'] }] });
    expect(await snapshot(t)).toEqual(before);
  });

  it('the same requests within the limits are accepted', async () => {
    expect(codes(await gql(t.url, `{ deadLetters(first: 10) { edges { cursor } } }`))).toEqual([]);
    expect(codes(await gql(t.url, `{ job(id: "00000000-0000-4000-8000-000000000000") { id events(first: 100) { seq } } }`))).toEqual([]);
    const res = await fetch(`${t.url}?query=${encodeURIComponent('{ jobTypes { name } }')}`, { headers: { authorization: bearer(t.key!), 'apollo-require-preflight': 'true' } });
    expect(res.status).toBe(200);
  });

  it('GET without a preflight header is blocked (CSRF prevention is on)', async () => {
    const res = await fetch(`${t.url}?query=${encodeURIComponent('{ jobTypes { name } }')}`, { headers: { authorization: bearer(t.key!) } });
    expect(res.status).toBe(400);
    expect(codes({ body: await res.json() })).toEqual(['BAD_REQUEST']);
  });

  it('introspection does not count towards the depth limit (GraphiQL nests `ofType` deeply)', async () => {
    const r = await gql(t.url, '{ __type(name: "Job") { fields { type { ofType { ofType { ofType { name } } } } } } }');
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.__type.fields.length).toBeGreaterThan(5);
  });
});

describe('submit rate per key', () => {
  it('RATE_LIMITED (HTTP 429, Retry-After) past the burst, nothing written; other keys are not affected', async () => {
    const mine = { authorization: bearer((await t.createKey('rate')).key) };
    for (let i = 0; i < 3; i++) expect((await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } }, mine)).body.data.submitJob.job).not.toBeNull();
    const before = await snapshot(t);
    const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', ...mine }, body: JSON.stringify({ query: SUBMIT, variables: { input: { type: 'demo.noop' } } }) });
    const body = await res.json();
    expect(res.status).toBe(429);
    expect(body.errors[0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: expect.any(Number), remaining: 0 });
    expect(Number(res.headers.get('retry-after'))).toBe(body.errors[0].extensions.retryAfter);
    expect(body.data ?? null).toBeNull();
    expect(await snapshot(t)).toEqual(before);

    const other = { authorization: bearer((await t.createKey('rate')).key) };
    expect((await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } }, other)).body.data.submitJob.job).not.toBeNull();
  });

  it('an operation counts every job it submits: two aliased submits with one token left are refused whole', async () => {
    const mine = { authorization: bearer((await t.createKey('rate2')).key) };
    await gql(t.url, `mutation { a: ${noop} b: ${noop} }`, {}, mine); // 2 of 3
    const before = await snapshot(t);
    const r = await gql(t.url, `mutation { a: ${noop} b: ${noop} }`, {}, mine);
    expect(codes(r)).toEqual(['RATE_LIMITED']);
    expect(await snapshot(t)).toEqual(before);
  });

  // Both used to be charged almost nothing: the default value as 1 job, a total past one batch (1000) as 0.
  it('jobs in a variable\'s default value count: 5 of them past a burst of 3 are refused whole, nothing written', async () => {
    const mine = { authorization: bearer((await t.createKey('rate4')).key) };
    const inputs = Array(5).fill('{ type: "demo.noop" }').join(', ');
    const before = await snapshot(t);
    const r = await gql(t.url, `mutation($i: [SubmitJobInput!]! = [${inputs}]) { submitJobs(inputs: $i) { jobs { id } } }`, undefined, mine);
    expect(r.status).toBe(429);
    expect(r.body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: null, limit: 3, remaining: 3 });
    expect(await snapshot(t)).toEqual(before);
  });

  it('jobs of several submitJobs fields add up even past one batch (two of 600): refused whole, nothing written', async () => {
    const mine = { authorization: bearer((await t.createKey('rate5')).key) };
    const before = await snapshot(t);
    const r = await gql(t.url, `mutation($i: [SubmitJobInput!]!) { a: submitJobs(inputs: $i) { jobs { id } } b: submitJobs(inputs: $i) { jobs { id } } }`, { i: Array(600).fill({ type: 'demo.noop' }) }, mine);
    expect(r.status).toBe(429);
    expect(r.body.errors?.[0]?.extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: null, limit: 3, remaining: 3 });
    expect(await snapshot(t)).toEqual(before);
  });

  it('a submitJobs over one batch (1000) is still refused by its size, whatever the burst', async () => {
    const mine = { authorization: bearer((await t.createKey('rate6')).key) };
    const r = await gql(t.url, `mutation($i: [SubmitJobInput!]!) { submitJobs(inputs: $i) { jobs { id } userErrors { code field } } }`, { i: Array(1001).fill({ type: 'demo.noop' }) }, mine);
    expect(r.body.data.submitJobs).toEqual({ jobs: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['inputs'] }] });
  });

  it('a refused oversized batch gives back no jobs it was not charged: the other submits of its operation stay charged', async () => {
    const mine = { authorization: bearer((await t.createKey('rate7')).key) };
    const query = `mutation($big: [SubmitJobInput!]!) {
      a: submitJobs(inputs: $big) { userErrors { code } }
      b: submitJobs(inputs: [{ type: "demo.noop" }, { type: "demo.noop" }, { type: "demo.noop" }]) { jobs { id } }
    }`;
    const variables = { big: Array(1001).fill({ type: 'demo.noop' }) };
    const first = await gql(t.url, query, variables, mine);
    expect(first.body.data).toMatchObject({ a: { userErrors: [{ code: 'OUT_OF_RANGE' }] }, b: { jobs: [{}, {}, {}] } });
    const before = await snapshot(t);
    const again = await gql(t.url, query, variables, mine);
    expect(again.status).toBe(429);
    expect(codes(again)).toEqual(['RATE_LIMITED']);
    expect(await snapshot(t)).toEqual(before);
  });

  it('queries are not rate limited', async () => {
    const mine = { authorization: bearer((await t.createKey('rate3')).key) };
    for (let i = 0; i < 10; i++) expect(codes(await gql(t.url, '{ jobTypes { name } }', {}, mine))).toEqual([]);
  });
});

describe('production mode', () => {
  let prod: TestApp;
  beforeAll(async () => {
    prod = await startTestApp({ handlers: null, config: { NODE_ENV: 'production' } });
  });
  afterAll(async () => {
    await prod?.dispose();
  });

  it('introspection is off unless GRAPHQL_INTROSPECTION=on', async () => {
    const r = await gql(prod.url, '{ __schema { queryType { name } } }');
    expect(codes(r)).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(r.body.errors?.[0]?.message).toMatch(/introspection/i);
    expect(codes(await gql(prod.url, '{ __type(name: "Job") { name } }'))).toEqual(['GRAPHQL_VALIDATION_FAILED']);
    expect(codes(await gql(prod.url, '{ jobTypes { name } }'))).toEqual([]);
    // graphql-ws validates on its own: the same rule applies there.
    const client = wsClient(prod.wsUrl);
    const overWs = await collect(client, '{ __schema { queryType { name } } }', {});
    await client.dispose();
    expect((overWs.errors[0] as any).extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
  });

  it('errors carry no stack traces', async () => {
    for (const q of ['{ nope }', '{ job(id: [1]) { id } }', 'mutation { cancelJob(id: "00000000-0000-4000-8000-000000000000") { job { id } } }', '{']) {
      const r = await gql(prod.url, q);
      expect(r.body.errors?.length).toBeGreaterThan(0);
      expect(JSON.stringify(r.body)).not.toMatch(/stacktrace|at .*\.(ts|js):\d+/);
    }
  });
});
