/**
 * `jobTypes.payloadSchema` describes what a client may submit: a field with a default may be left out (the
 * README's own `{ ms: 100 }` for demo.sleep), so a client that builds a form or checks its payload against
 * the schema before submitting accepts what the API accepts. A shipped type's timeout lets the longest run
 * its payload accepts finish.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

interface Schema {
  required?: string[];
  properties: Record<string, { default?: unknown; maximum?: number }>;
}

async function payloadSchemas(): Promise<Map<string, Schema>> {
  const r = await gql<{ jobTypes: { name: string; payloadSchema: Schema }[] }>(t.url, '{ jobTypes { name payloadSchema } }');
  return new Map(r.body.data!.jobTypes.map((j) => [j.name, j.payloadSchema]));
}

describe('jobTypes.payloadSchema', () => {
  it('requires only the fields without a default, as submitJob does', async () => {
    const schemas = await payloadSchemas();
    expect(schemas.get('demo.sleep')!.required).toEqual(['ms']);
    expect(schemas.get('demo.sleep')!.properties['steps']!.default).toBe(10);
    expect(schemas.get('demo.flaky')!.required ?? []).toEqual([]);
    expect(schemas.get('demo.hash')!.required).toEqual(['mib']);
    // What the schema allows, the API takes: demo.flaky with none of its fields, demo.sleep with ms alone.
    const r = await gql(t.url, 'mutation { submitJobs(inputs: [{ type: "demo.sleep", payload: { ms: 100 } }, { type: "demo.flaky" }]) { jobs { id } userErrors { code } } }');
    expect(r.body.data.submitJobs.userErrors).toEqual([]);
  });

  it("gives demo.sleep a timeout longer than the longest sleep its payload accepts (an hour), so such a job can succeed", async () => {
    const r = await gql<{ jobTypes: { name: string; timeoutMs: number; payloadSchema: Schema }[] }>(t.url, '{ jobTypes { name timeoutMs payloadSchema } }');
    const sleep = r.body.data!.jobTypes.find((j) => j.name === 'demo.sleep')!;
    expect(sleep.payloadSchema.properties['ms']!.maximum).toBe(3_600_000);
    expect(sleep.timeoutMs).toBeGreaterThan(3_600_000);
  });
});
