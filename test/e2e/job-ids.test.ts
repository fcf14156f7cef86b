/**
 * Job ids are UUIDs of version 7: their first 48 bits are the submit time in milliseconds, by the API's clock
 * (here the test's own machine), so jobs submitted in later milliseconds have ids that sort after, as text too.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const timeOf = (id: string) => parseInt(id.replace(/-/g, '').slice(0, 12), 16);
const BULK = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id createdAt } userErrors { code } } }`;

it('gives submitJob and submitJobs version-7 ids carrying the submit time, sorting in submit order', async () => {
  const submitted: { id: string; createdAt: string; before: number; after: number }[] = [];
  for (let i = 0; i < 5; i++) {
    const before = Date.now();
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0 } } });
    const after = Date.now();
    expect(r.body.data.submitJob.userErrors).toEqual([]);
    submitted.push({ ...r.body.data.submitJob.job, before, after });
    await new Promise((res) => setTimeout(res, 3)); // the next submit in a later millisecond
  }
  const before = Date.now();
  const bulk = await gql(t.url, BULK, { inputs: [1, 2, 3].map(() => ({ type: 'demo.sleep', payload: { ms: 0 } })) });
  const after = Date.now();
  expect(bulk.body.data.submitJobs.userErrors).toEqual([]);
  for (const job of bulk.body.data.submitJobs.jobs) submitted.push({ ...job, before, after });

  expect(new Set(submitted.map((j) => j.id)).size).toBe(8);
  for (const j of submitted) {
    expect(j.id).toMatch(V7);
    expect(timeOf(j.id)).toBeGreaterThanOrEqual(j.before);
    expect(timeOf(j.id)).toBeLessThanOrEqual(j.after);
    // createdAt is PostgreSQL's clock, on this machine too.
    expect(Math.abs(timeOf(j.id) - Date.parse(j.createdAt))).toBeLessThan(1000);
  }
  const oneByOne = submitted.slice(0, 5).map((j) => j.id);
  expect([...oneByOne].sort()).toEqual(oneByOne);
  expect(submitted.slice(5).every((j) => j.id > oneByOne[4]!)).toBe(true);
});
