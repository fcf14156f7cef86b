/**
 * Hostile input against the real server (default limits): deep queries, giant aliases, 10 MB bodies,
 * invalid UTF-8, bad JSON, wrong types, unknown fields, huge lists, NUL bytes and lone surrogates. Each case:
 * no crash, no 5xx without a GraphQL error body, no stack trace, nothing written, and the server still
 * serving afterwards.
 */
import { getIntrospectionQuery } from 'graphql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, collect, gql, SUBMIT, wsClient } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { snapshot } from '../support/snapshot.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

interface Sent {
  method?: 'GET' | 'POST';
  body?: string | Uint8Array<ArrayBuffer>;
  contentType?: string | null;
  query?: string;
}

async function send(s: Sent): Promise<{ status: number; text: string }> {
  const headers: Record<string, string> = { authorization: bearer(t.key!) };
  if (s.contentType !== null) headers['content-type'] = s.contentType ?? 'application/json';
  const url = s.query === undefined ? t.url : `${t.url}?query=${encodeURIComponent(s.query)}`;
  const res = await fetch(url, { method: s.method ?? 'POST', headers: { ...headers, 'apollo-require-preflight': 'true' }, body: s.body });
  return { status: res.status, text: await res.text() };
}

/** Bytes, which may be invalid UTF-8. */
const bytes = (...parts: (string | number[])[]) => new Uint8Array(Buffer.concat(parts.map((p) => Buffer.from(p as never))));
const json = (query: string, variables?: unknown, extra: Record<string, unknown> = {}) => JSON.stringify({ query, variables, ...extra });
const nested = (depth: number) => `${'{ a '.repeat(depth)}${'}'.repeat(depth)}`;
const submitWith = (input: unknown) => json(SUBMIT, { input });

/** [name, request, expected code of the first error (or `userError:CODE` for a refused submit)] */
const cases: [string, Sent, string][] = [
  ['deep query (200 levels of unknown fields)', { body: json(nested(200)) }, 'QUERY_TOO_DEEP'],
  ['very deep query (3000 levels): stopped by the token limit', { body: json(nested(3000)) }, 'GRAPHQL_PARSE_FAILED'],
  ['giant aliases (2000)', { body: json(`{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: __typename`).join(' ')} }`) }, 'TOO_MANY_ALIASES'],
  ['giant aliases (5000): stopped by the token limit', { body: json(`{ ${Array.from({ length: 5000 }, (_, i) => `a${i}: jobTypes { name }`).join(' ')} }`) }, 'GRAPHQL_PARSE_FAILED'],
  ['the same connection 60 times', { body: json(`{ ${Array(60).fill('deadLetters { totalCount }').join(' ')} }`) }, 'QUERY_TOO_COSTLY'],
  ['fragment bomb (2^30 fields)', { body: json(`query { ...F30 } ${Array.from({ length: 30 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`).join(' ')} fragment F0 on Query { jobTypes { name } }`) }, 'QUERY_TOO_COSTLY'],
  ['fragment cycle', { body: json(`query { ...A } fragment A on Query { ...B } fragment B on Query { ...A }`) }, 'GRAPHQL_VALIDATION_FAILED'],
  ['10 MB body', { body: submitWith({ type: 'demo.noop', payload: { blob: 'x'.repeat(10 * 1024 * 1024) } }) }, 'PAYLOAD_TOO_LARGE'],
  ['10 MB text/plain body', { body: 'x'.repeat(10 * 1024 * 1024), contentType: 'text/plain' }, 'BAD_REQUEST'],
  ['invalid UTF-8 in the body', { body: bytes('{"query":"{ jobTypes { name', [0xff, 0xfe, 0xc3], ' } }"}') }, 'GRAPHQL_PARSE_FAILED'],
  ['invalid UTF-8 in a variable', { body: bytes(`{"query":${JSON.stringify(SUBMIT)},"variables":{"input":{"type":"demo.sleep","payload":{"ms":"`, [0xff, 0xc3], '"}}}}') }, 'userError:INVALID_PAYLOAD'],
  ['bad JSON', { body: '{"query": ' }, 'BAD_REQUEST'],
  ['JSON that is not an object', { body: '"{ jobTypes { name } }"' }, 'BAD_REQUEST'],
  ['JSON null', { body: 'null' }, 'BAD_REQUEST'],
  ['empty body', { body: '' }, 'BAD_REQUEST'],
  ['no content type', { body: json('{ jobTypes { name } }'), contentType: null }, 'BAD_REQUEST'],
  ['query is a number', { body: JSON.stringify({ query: 5 }) }, 'BAD_REQUEST'],
  ['variables is a string', { body: JSON.stringify({ query: SUBMIT, variables: 'x' }) }, 'BAD_REQUEST'],
  ['operationName names no operation', { body: json('query A { jobTypes { name } }', {}, { operationName: 'B' }) }, 'OPERATION_RESOLUTION_FAILURE'],
  ['wrong variable type (maxAttempts: "ten")', { body: submitWith({ type: 'demo.noop', maxAttempts: 'ten' }) }, 'BAD_USER_INPUT'],
  ['wrong variable type (input is a list)', { body: submitWith([{ type: 'demo.noop' }]) }, 'BAD_USER_INPUT'],
  ['unknown input field', { body: submitWith({ type: 'demo.noop', owner: 'someone-else' }) }, 'BAD_USER_INPUT'],
  ['unknown field', { body: json('{ job(id: "x") { id secret } }') }, 'GRAPHQL_VALIDATION_FAILED'],
  ['huge list in the payload (200k items)', { body: submitWith({ type: 'demo.noop', payload: { list: Array(200_000).fill(0) } }) }, 'userError:OUT_OF_RANGE'],
  ['huge list as a variable (2M items)', { body: json(SUBMIT, { input: { type: 'demo.noop' }, extra: Array(2_000_000).fill(1) }) }, 'PAYLOAD_TOO_LARGE'],
  ['deeply nested payload (100k levels)', { body: `{"query":${JSON.stringify(SUBMIT)},"variables":{"input":{"type":"demo.noop","payload":{"a":${'['.repeat(100_000)}${']'.repeat(100_000)}}}}}` }, 'userError:OUT_OF_RANGE'],
  ['payload failing its schema', { body: submitWith({ type: 'demo.sleep', payload: { ms: -1, evil: true } }) }, 'userError:INVALID_PAYLOAD'],
  ['NUL byte in the payload', { body: submitWith({ type: 'demo.noop', payload: { s: 'a\u0000b' } }) }, 'userError:INVALID_PAYLOAD'],
  ['lone surrogate in the payload', { body: '{"query":' + JSON.stringify(SUBMIT) + ',"variables":{"input":{"type":"demo.noop","payload":{"s":"\\ud800"}}}}' }, 'userError:INVALID_PAYLOAD'],
  ['NUL byte in the idempotency key', { body: submitWith({ type: 'demo.noop', idempotencyKey: '\u0000' }) }, 'userError:OUT_OF_RANGE'],
  ['a 1 MB job type name', { body: submitWith({ type: 'x'.repeat(1024 * 1024) }) }, 'userError:UNKNOWN_JOB_TYPE'],
  ['job id that is not a UUID', { body: json('mutation { cancelJob(id: "\'; drop table jobs; --") { job { id } } }') }, 'NOT_FOUND'],
  ['a 100 KB query string in the URL', { method: 'GET', query: `{ ${'jobTypes { name } '.repeat(5000)}}` }, 'HTTP'],
  ['mutation over GET', { method: 'GET', query: SUBMIT }, 'BAD_REQUEST'],
];

describe('hostile input over HTTP', () => {
  it.each(cases)('%s', async (_, sent, expected) => {
    const before = await snapshot(t);
    const r = await send(sent);
    if (expected === 'HTTP') {
      expect(r.status).toBeGreaterThanOrEqual(400); // refused by Node's HTTP parser (431), before any JSON
      expect(r.status).toBeLessThan(500);
    } else {
      let body: any;
      expect(() => (body = JSON.parse(r.text)), `${r.status} ${r.text.slice(0, 200)}`).not.toThrow();
      if (expected.startsWith('userError:')) {
        expect(body.data.submitJob.job).toBeNull();
        expect(body.data.submitJob.userErrors[0].code).toBe(expected.slice('userError:'.length));
      } else {
        expect(body.errors?.[0]?.extensions?.code, r.text.slice(0, 300)).toBe(expected);
      }
      expect(r.status).toBeLessThan(500);
      expect(r.text).not.toMatch(/stacktrace|\bat .+\.(ts|js|mjs):\d+/);
    }
    expect(await snapshot(t)).toEqual(before);
    expect((await gql(t.url, '{ jobTypes { name } }')).body.data.jobTypes.length).toBeGreaterThan(0);
  });

  it('a prototype-pollution payload pollutes nothing', async () => {
    const r = await send({ body: '{"query":' + JSON.stringify(SUBMIT) + ',"variables":{"input":{"type":"demo.noop","payload":{"__proto__":{"admin":true}},"__proto__":{"owner":"x"}}}}' });
    expect(r.status).toBeLessThan(500);
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
    expect(({} as Record<string, unknown>)['owner']).toBeUndefined();
  });

  it("GraphiQL's introspection query is within the default limits", async () => {
    const r = await gql(t.url, getIntrospectionQuery());
    expect(r.body.errors).toBeUndefined();
    expect(r.body.data.__schema.queryType.name).toBe('Query');
  });
});

describe('hostile input over graphql-ws', () => {
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['deep query', nested(200), {}, 'QUERY_TOO_DEEP'],
    ['giant aliases', `{ ${Array.from({ length: 2000 }, (_, i) => `a${i}: __typename`).join(' ')} }`, {}, 'TOO_MANY_ALIASES'],
    ['wrong variable type', SUBMIT, { input: { type: 'demo.noop', maxAttempts: 'ten' } }, 'BAD_USER_INPUT'],
    ['unknown input field', SUBMIT, { input: { type: 'demo.noop', owner: 'x' } }, 'BAD_USER_INPUT'],
    ['NUL byte in the payload', SUBMIT, { input: { type: 'demo.noop', payload: { s: '\u0000' } } }, 'userError:INVALID_PAYLOAD'],
  ];
  it.each(cases)('%s', async (_, query, variables, expected) => {
    const before = await snapshot(t);
    const client = wsClient(t.wsUrl);
    const r = await collect(client, query, variables);
    await client.dispose();
    if (expected.startsWith('userError:')) expect(r.values[0].userErrors[0].code).toBe(expected.slice('userError:'.length));
    else expect((r.errors[0] as any)?.extensions?.code).toBe(expected);
    expect(await snapshot(t)).toEqual(before);
    expect((await gql(t.url, '{ jobTypes { name } }')).body.data.jobTypes.length).toBeGreaterThan(0);
  });
});
