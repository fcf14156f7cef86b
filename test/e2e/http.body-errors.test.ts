/**
 * Bodies that never reach GraphQL (malformed JSON, too large) still get a GraphQL-shaped JSON error.
 */
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
