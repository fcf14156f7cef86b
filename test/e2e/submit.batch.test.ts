/**
 * `submitJobs`: up to 1,000 jobs in one transaction, all or nothing, errors naming the input's index.
 * No workers: the stream keeps every message, so "nothing published" can be asserted.
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LongrunClient } from '../../sdk/index.js';
import { names } from '../../src/messaging/names.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, wsClient } from '../support/graphql.js';
import { sdkFor } from '../support/sdk.js';

let t: TestApp;
let sdk: LongrunClient;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
});
afterAll(async () => {
  await sdk?.close();
  await t?.dispose();
});

const rows = async () => (await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs`)[0]!.n;
async function streamMessages(): Promise<number> {
  const nc = await connect({ servers: t.env.natsUrl });
  try {
    return (await (await jetstreamManager(nc)).streams.info(names(t.env.prefix).jobsStream)).state.messages;
  } finally {
    await nc.close();
  }
}
async function eventually(check: () => Promise<boolean>) {
  for (let i = 0; i < 100 && !(await check()); i++) await new Promise((r) => setTimeout(r, 50));
}

describe('submitJobs', () => {
  it('accepts 1,000 jobs in one call, returns them in input order, and queues each once', async () => {
    const inputs = Array.from({ length: 1000 }, (_, i) => ({ type: 'demo.sleep', payload: { ms: i, steps: 1 } }));
    const r = await sdk.submitJobs(inputs);
    expect(r.userErrors).toEqual([]);
    expect(r.jobs).toHaveLength(1000);
    expect(r.jobs!.map((j) => (j.payload as { ms: number }).ms)).toEqual(inputs.map((i) => i.payload.ms));
    expect(r.jobs!.every((j) => j.state === 'QUEUED')).toBe(true);
    expect(await rows()).toBe(1000);
    await eventually(async () => (await streamMessages()) === 1000);
    expect(await streamMessages()).toBe(1000);
  });

  it('refuses the whole batch when one input is bad, naming it by index, and writes nothing', async () => {
    const before = await rows();
    const r = await sdk.submitJobs([
      { type: 'demo.sleep', payload: { ms: 1 } },
      { type: 'demo.sleep', payload: { ms: 1 } },
      { type: 'demo.sleep', payload: { ms: 1 } },
      { type: 'demo.sleep', payload: { ms: 'soon' } },
      { type: 'no.such.type' },
      { type: 'demo.sleep', payload: { ms: 1 }, maxAttempts: 0 },
    ]);
    expect(r.jobs).toBeNull();
    expect(r.userErrors).toEqual([
      { code: 'INVALID_PAYLOAD', field: ['inputs', '3', 'payload', 'ms'], message: expect.any(String) },
      { code: 'UNKNOWN_JOB_TYPE', field: ['inputs', '4', 'type'], message: expect.any(String) },
      { code: 'OUT_OF_RANGE', field: ['inputs', '5', 'maxAttempts'], message: expect.any(String) },
    ]);
    expect(await rows()).toBe(before);
    expect(await streamMessages()).toBe(1000);
  });

  it('refuses more than 1,000 inputs with OUT_OF_RANGE', async () => {
    const r = await sdk.submitJobs(Array.from({ length: 1001 }, () => ({ type: 'demo.sleep' })));
    expect(r).toEqual({ jobs: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['inputs'], message: expect.stringContaining('1000') }] });
    expect(await rows()).toBe(1000);
  });

  it('returns one job for an idempotency key repeated in a batch, and an empty batch as no jobs', async () => {
    const r = await sdk.submitJobs([
      { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'k1' },
      { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'k1' },
    ]);
    expect(r.jobs![0]!.id).toBe(r.jobs![1]!.id);
    expect(await rows()).toBe(1001);
    expect(await sdk.submitJobs([])).toEqual({ jobs: [], userErrors: [] });
  });

  it('answers each job with the idempotency key it was submitted with (null without one), read for the whole answer at once', async () => {
    const r = await gql(t.url, `mutation { submitJobs(inputs: [{ type: "demo.sleep", payload: { ms: 1 }, idempotencyKey: "k2" }, { type: "demo.sleep", payload: { ms: 1 } }]) { jobs { id idempotencyKey } } }`);
    expect(r.body.data.submitJobs.jobs.map((j: { idempotencyKey: string | null }) => j.idempotencyKey)).toEqual(['k2', null]);
    const id = r.body.data.submitJobs.jobs[0].id;
    expect((await gql(t.url, `query ($id: ID!) { job(id: $id) { idempotencyKey } }`, { id })).body.data.job).toEqual({ idempotencyKey: 'k2' });
  });
});

describe('submitJobs payloads, together, at most the largest request the server reads', () => {
  // One variable written in every input: a small request, each input's payload within MAX_PAYLOAD_BYTES.
  const reusing = (n: number) =>
    `mutation B($p: JSON) { submitJobs(inputs: [${Array(n).fill('{ type: "demo.noop", payload: $p }').join(', ')}]) { jobs { id payload } userErrors { code field message } } }`;
  const cap = () => Math.max(t.config.HTTP_BODY_LIMIT_BYTES, t.config.WS_MAX_MESSAGE_BYTES);
  /** A payload of exactly `bytes` bytes of JSON text. */
  const payloadOf = (bytes: number, n = 0) => ({ n, pad: 'x'.repeat(bytes - JSON.stringify({ n, pad: '' }).length) });

  it('refuses a call whose payloads come to more (one 100 KiB variable in 1,000 inputs) as a whole, writing nothing', async () => {
    const before = await rows();
    const r = await gql(t.url, reusing(1000), { p: payloadOf(100 * 1024) });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: {
        submitJobs: { jobs: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['inputs'], message: expect.stringContaining(`more than ${cap()} bytes together`) }] },
      },
    });
    expect(await rows()).toBe(before);
  });

  it('refuses one byte past, and accepts a call at the limit, from one variable or written out', async () => {
    const before = await rows();
    const n = 16;
    const each = cap() / n; // 2 MiB by default: 128 KiB each
    const over = await gql(t.url, reusing(n), { p: payloadOf(each + 1) });
    expect(over.body.data.submitJobs).toEqual({ jobs: null, userErrors: [{ code: 'OUT_OF_RANGE', field: ['inputs'], message: expect.any(String) }] });
    expect(await rows()).toBe(before);

    const reused = await gql(t.url, reusing(n), { p: payloadOf(each) });
    expect(reused.body.data.submitJobs.userErrors).toEqual([]);
    expect(reused.body.data.submitJobs.jobs).toHaveLength(n);
    // Each input its own payload: with the rest of the request, within HTTP_BODY_LIMIT_BYTES.
    const inputs = Array.from({ length: n }, (_, i) => ({ type: 'demo.noop', payload: payloadOf(each - 200, i) }));
    const r = await sdk.submitJobs(inputs);
    expect(r.userErrors).toEqual([]);
    expect(r.jobs!.map((j) => j.payload)).toEqual(inputs.map((i) => i.payload));
    expect(await rows()).toBe(before + 2 * n);
  });
});

describe('the payloads of every submit of one operation, together, at most the same', () => {
  const cap = () => Math.max(t.config.HTTP_BODY_LIMIT_BYTES, t.config.WS_MAX_MESSAGE_BYTES);
  const payloadOf = (bytes: number) => ({ pad: 'x'.repeat(bytes - JSON.stringify({ pad: '' }).length) });
  const inputs = (n: number) => `[${Array(n).fill('{ type: "demo.noop", payload: $p }').join(', ')}]`;
  /** With `$p` of cap/16 bytes: a and b fill the budget exactly; c and d find none left. */
  const ALIASED = `mutation A($p: JSON) {
    a: submitJobs(inputs: ${inputs(8)}) { jobs { id } userErrors { code field message } }
    b: submitJobs(inputs: ${inputs(8)}) { jobs { id } userErrors { code field message } }
    c: submitJobs(inputs: ${inputs(1)}) { jobs { id } userErrors { code field message } }
    d: submitJob(input: { type: "demo.noop", payload: $p }) { job { id } userErrors { code field message } }
  }`;
  const refused = (field: string[]) => ({ code: 'OUT_OF_RANGE', field, message: expect.stringContaining(`this operation's submits are more than ${cap()} bytes together`) });
  const expectFirstTwoOnly = (data: any) => {
    expect(data.a.jobs).toHaveLength(8);
    expect(data.b.jobs).toHaveLength(8);
    expect(data.c).toEqual({ jobs: null, userErrors: [refused(['inputs'])] });
    expect(data.d).toEqual({ job: null, userErrors: [refused(['input', 'payload'])] });
  };

  it('over HTTP, writes aliased fields while their payloads fit and refuses each one past, writing nothing of it', async () => {
    const before = await rows();
    const r = await gql(t.url, ALIASED, { p: payloadOf(cap() / 16) });
    expect(r.body.errors).toBeUndefined();
    expectFirstTwoOnly(r.body.data);
    expect(await rows()).toBe(before + 16);
  });

  it('over graphql-ws, the same', async () => {
    const before = await rows();
    const client = wsClient(t.wsUrl);
    try {
      const data: any[] = [];
      for await (const r of client.iterate({ query: ALIASED, variables: { p: payloadOf(cap() / 16) } })) {
        expect(r.errors).toBeUndefined();
        data.push(r.data);
      }
      expect(data).toHaveLength(1);
      expectFirstTwoOnly(data[0]);
    } finally {
      await client.dispose();
    }
    expect(await rows()).toBe(before + 16);
  });

  it('counts a field GraphQL merges (the same alias and arguments written twice) once, as it runs once', async () => {
    const before = await rows();
    const field = `a: submitJobs(inputs: ${inputs(16)}) { jobs { id } userErrors { code field message } }`;
    const r = await gql(t.url, `mutation M($p: JSON) { ${field} ${field} }`, { p: payloadOf(cap() / 16) });
    expect(r.body.data.a.userErrors).toEqual([]);
    expect(r.body.data.a.jobs).toHaveLength(16);
    expect(await rows()).toBe(before + 16);
  });
});
