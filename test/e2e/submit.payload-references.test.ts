/**
 * A GraphQL variable written many times inside one payload (`payload: { a: [$p, $p, …] }`): the value is far
 * larger than the request. It is refused with OUT_OF_RANGE on the payload, its size counted no further than
 * MAX_PAYLOAD_BYTES, so the API answers at once and goes on answering; nothing is written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PAYLOAD_BYTES } from '../../src/jobs/payload-check.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { collect, gql, wsClient } from '../support/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const rows = async () => (await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs`)[0]!.n;
/** About 100 KB of JSON in 50,000 values: each copy costs a walk of its values. */
const p = Array(50_000).fill(0);
const refs = (n: number) => `[${Array(n).fill('$p').join(', ')}]`;
/** 500 copies: 50 MB written out, from a 104 KB request. */
const SUBMIT_MANY = `mutation S($p: JSON) { submitJob(input: { type: "demo.noop", payload: { a: ${refs(500)} } }) {
  job { id } userErrors { code field message } } }`;
const tooLarge = (field: string[]) => ({ code: 'OUT_OF_RANGE', field, message: expect.stringContaining(`more than ${MAX_PAYLOAD_BYTES} bytes`) });

describe('one variable written many times in a payload', () => {
  it('is refused with OUT_OF_RANGE on the payload over HTTP, nothing written, and the API answers the next request', async () => {
    const before = await rows();
    const r = await gql(t.url, SUBMIT_MANY, { p });
    expect(r.body).toEqual({ data: { submitJob: { job: null, userErrors: [tooLarge(['input', 'payload'])] } } });
    expect(await rows()).toBe(before);
    expect((await gql(t.url, '{ jobTypes { name } }')).body.data.jobTypes.length).toBeGreaterThan(0);
  }, 20_000);

  it('is refused the same over graphql-ws', async () => {
    const before = await rows();
    const client = wsClient(t.wsUrl);
    try {
      const r = await collect(client, SUBMIT_MANY, { p });
      expect(r).toEqual({ values: [{ job: null, userErrors: [tooLarge(['input', 'payload'])] }], errors: [] });
    } finally {
      await client.dispose();
    }
    expect(await rows()).toBe(before);
  }, 20_000);

  it('in one input of submitJobs, is refused naming that input', async () => {
    const before = await rows();
    const r = await gql(t.url, `mutation B($p: JSON) { submitJobs(inputs: [{ type: "demo.noop" }, { type: "demo.noop", payload: { a: ${refs(5)} } }]) {
      jobs { id } userErrors { code field message } } }`, { p });
    expect(r.body).toEqual({ data: { submitJobs: { jobs: null, userErrors: [tooLarge(['inputs', '1', 'payload'])] } } });
    expect(await rows()).toBe(before);
  });
});

describe('a variable the request does not give, written in a payload', () => {
  // GraphQL reads an absent variable inside a literal as undefined: the key goes, as JSON has no such value,
  // and in a list the item is null (JSON.stringify's reading, which the stored payload is).
  it('leaves its key out of the payload (null in a list), as JSON does', async () => {
    const r = await gql(t.url, `mutation S($p: JSON) { submitJob(input: { type: "demo.noop", payload: { a: $p, b: 1, c: [$p, 2] } }) {
      job { payload } userErrors { code field message } } }`, {});
    expect(r.body).toEqual({ data: { submitJob: { job: { payload: { b: 1, c: [null, 2] } }, userErrors: [] } } });
  });
});
