/**
 * Bodies that never reach GraphQL (malformed JSON, too large, an unknown encoding) still get a GraphQL-shaped
 * JSON error; compressed bodies are read.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const post = (body: string, accept = 'application/json') =>
  fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', accept, authorization: bearer(t.key!) }, body });

it('answers malformed JSON with 400 and code BAD_REQUEST', async () => {
  const res = await post('{"query": "{ jobTypes { name } }"');
  expect(res.status).toBe(400);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(await res.json()).toEqual({ errors: [{ message: 'malformed JSON in the request body', extensions: { code: 'BAD_REQUEST' } }] });
  const strict = await post('{', 'application/graphql-response+json');
  expect(strict.status).toBe(400);
  expect(strict.headers.get('content-type')).toMatch(/^application\/graphql-response\+json/);
});

it('answers an oversize body with 413 and code PAYLOAD_TOO_LARGE', async () => {
  const res = await post(JSON.stringify({ query: '{ jobTypes { name } }', variables: { pad: 'x'.repeat(3 * 1024 * 1024) } }));
  expect(res.status).toBe(413);
  expect(await res.json()).toEqual({ errors: [{ message: 'request body too large', extensions: { code: 'PAYLOAD_TOO_LARGE' } }] });
});

it('still serves well-formed requests', async () => {
  const res = await post(JSON.stringify({ query: '{ jobTypes { name } }' }));
  expect(res.status).toBe(200);
  expect((await res.json()).data.jobTypes.length).toBeGreaterThan(0);
});

it('reads gzip-compressed bodies, and refuses an encoding it cannot read with 415', async () => {
  const headers = { 'content-type': 'application/json', authorization: bearer(t.key!) };
  const query = JSON.stringify({ query: '{ jobTypes { name } }' });
  const gz = await fetch(t.url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipSync(query) });
  expect(gz.status).toBe(200);
  expect((await gz.json()).data.jobTypes.length).toBeGreaterThan(0);
  const corrupt = await fetch(t.url, { method: 'POST', headers: { ...headers, 'content-encoding': 'gzip' }, body: gzipSync(query).subarray(0, 12) });
  expect(corrupt.status).toBe(400);
  expect(await corrupt.json()).toEqual({ errors: [{ message: 'the request body could not be decompressed', extensions: { code: 'BAD_REQUEST' } }] });
  const zip = await fetch(t.url, { method: 'POST', headers: { ...headers, 'content-encoding': 'zstd' }, body: query });
  expect(zip.status).toBe(415);
  expect(await zip.json()).toEqual({ errors: [{ message: 'unsupported content encoding "zstd"', extensions: { code: 'BAD_REQUEST' } }] });
});

it('counts the limit on the decompressed body', async () => {
  const big = gzipSync(JSON.stringify({ query: '{ jobTypes { name } }', variables: { pad: 'x'.repeat(3 * 1024 * 1024) } }));
  expect(big.length).toBeLessThan(100_000);
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'content-encoding': 'gzip', authorization: bearer(t.key!) },
    body: big,
  });
  expect(res.status).toBe(413);
  expect((await res.json()).errors[0].extensions.code).toBe('PAYLOAD_TOO_LARGE');
});

it('gives every answer an x-request-id, a refused key too', async () => {
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-401' }, body: '{"query":"{ jobTypes { name } }"}' });
  expect(res.status).toBe(401);
  expect(res.headers.get('x-request-id')).toBe('req-401');
  expect(res.headers.get('www-authenticate')).toBe('Bearer');
  const bad = await post('{');
  expect(bad.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
});

it('answers a subscription sent over HTTP with 400 BAD_REQUEST pointing to graphql-ws, not an internal error', async () => {
  for (const query of [
    'subscription { jobProgress(id: "00000000-0000-4000-8000-000000000000") { seq state } }',
    'subscription { jobUpdates { jobId state } }',
  ]) {
    const res = await post(JSON.stringify({ query }));
    expect(res.status).toBe(400);
    const body = await res.json();
    expect(body.errors).toHaveLength(1);
    expect(body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(body.errors[0].message).toMatch(/graphql-ws/);
  }
});
