/**
 * With introspection off (the production default), the schema is not public: graphql-js' "Did you mean …?"
 * suggestions in validation messages named its fields, arguments and types one guess at a time. They are
 * left out on both transports then, and kept while introspection is on.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer, gql } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { rawSocket } from '../support/raw-ws.js';

let hidden: TestApp;
let open: TestApp;
beforeAll(async () => {
  hidden = await startTestApp({ handlers: null, config: { GRAPHQL_INTROSPECTION: 'off' } });
  open = await startTestApp({ handlers: null, env: hidden.env, config: { GRAPHQL_INTROSPECTION: 'on' } });
});
afterAll(async () => {
  await open?.dispose();
  await hidden?.dispose();
});

const TYPO = '{ jbos { totalCount } }';
/** The first error of an answer over HTTP. */
const overHttp = async (t: TestApp) => (await gql(t.url, TYPO)).body.errors![0]!;

/** The first error's message over graphql-ws. */
async function overWs(t: TestApp): Promise<string> {
  const s = rawSocket(t.wsUrl);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: bearer(t.key!) } });
  await s.next((m) => m.type === 'connection_ack');
  s.send({ id: '1', type: 'subscribe', payload: { query: TYPO } });
  const m = await s.next((x) => x.type === 'error');
  s.ws.close();
  return m.payload[0].message;
}

it('leaves the suggestions out of validation messages while introspection is off, on both transports', async () => {
  const http = await overHttp(hidden);
  expect(http.message).toBe('Cannot query field "jbos" on type "Query".');
  expect(http.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
  expect(await overWs(hidden)).toBe('Cannot query field "jbos" on type "Query".');

  expect((await overHttp(open)).message).toMatch(/Did you mean "jobs"/);
  expect(await overWs(open)).toMatch(/Did you mean "jobs"/);
});
