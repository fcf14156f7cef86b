/**
 * A submit counts each payload's size once, before anything else is checked: that one count is taken from the
 * operation's payload budget and is what the check against MAX_PAYLOAD_BYTES reads (before, the budget's
 * count and the validation's each walked the payload). A payload past MAX_PAYLOAD_BYTES gets its own error
 * whatever the budget, counted no further than just past the larger of that and what the budget left.
 * Every submit here is refused by its input, so nothing reaches the database: `deps` holds the types and names alone.
 */
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import type { JobDeps } from '../../src/jobs/deps.js';
import { names } from '../../src/messaging/names.js';
import { jsonBytes, MAX_PAYLOAD_BYTES } from '../../src/jobs/payload-check.js';
import { payloadBudget } from '../../src/jobs/submit-check.js';
import { submitBatch, submitOne } from '../../src/jobs/submit.js';

vi.mock('../../src/jobs/payload-check.js', async (importOriginal) => {
  const m = await importOriginal<typeof import('../../src/jobs/payload-check.js')>();
  return { ...m, jsonBytes: vi.fn(m.jsonBytes) };
});
const counted = vi.mocked(jsonBytes);
beforeEach(() => counted.mockClear());

const deps = { types: new Map(BUILTIN_JOB_TYPES.map((t) => [t.name, t])), names: names('counted-once') } as unknown as JobDeps;
const viewer = { owner: 'counted-once', admin: false };
/** How many times `payload` was counted, and the largest count. */
const countsOf = (payload: unknown) => {
  const calls = counted.mock.calls.flatMap((c, i) => (c[0] === payload ? [counted.mock.results[i]!.value as number] : []));
  return { times: calls.length, most: Math.max(...calls) };
};
const tooLarge = (field: string[]) => ({ code: 'OUT_OF_RANGE', field, message: `payload is more than ${MAX_PAYLOAD_BYTES} bytes as JSON text, the most one payload may be` });
/** 1 KB shared level after level, 40 levels: a petabyte of JSON, were it counted to the end. */
const huge = () => {
  let v: unknown = { pad: 'x'.repeat(1000) };
  for (let i = 0; i < 40; i++) v = [v, v];
  return { a: v };
};

describe('each payload is counted once', () => {
  it('by submitJob', async () => {
    const payload = { n: 1 };
    const r = await submitOne(deps, viewer, { type: 'demo.noop', payload, maxAttempts: 0 }, payloadBudget(2 * 1024 * 1024));
    expect(r.userErrors).toEqual([{ code: 'OUT_OF_RANGE', field: ['input', 'maxAttempts'], message: expect.any(String) }]);
    expect(countsOf(payload).times).toBe(1);
  });

  it('by submitJobs, each input', async () => {
    const payloads = [{ a: 1 }, { b: 2 }, { c: 3 }];
    const inputs = payloads.map((payload, i) => ({ type: 'demo.noop', payload, maxAttempts: i === 2 ? 0 : 1 }));
    const r = await submitBatch(deps, viewer, inputs, payloadBudget(2 * 1024 * 1024));
    expect(r.userErrors).toEqual([{ code: 'OUT_OF_RANGE', field: ['inputs', '2', 'maxAttempts'], message: expect.any(String) }]);
    expect(payloads.map((p) => countsOf(p).times)).toEqual([1, 1, 1]);
  });
});

describe('a payload past MAX_PAYLOAD_BYTES gets its own error, whatever the budget, counted no further than needed', () => {
  it('alone, with a budget below MAX_PAYLOAD_BYTES', async () => {
    const payload = huge();
    const r = await submitOne(deps, viewer, { type: 'demo.noop', payload }, payloadBudget(64 * 1024));
    expect(r.userErrors).toEqual([tooLarge(['input', 'payload'])]);
    expect(countsOf(payload).times).toBe(1);
    expect(countsOf(payload).most).toBeLessThan(MAX_PAYLOAD_BYTES + 2000);
  });

  it('alone, past what the submits before it left', async () => {
    const payload = huge();
    const budget = payloadBudget(2 * 1024 * 1024);
    budget.left = 1000;
    const r = await submitOne(deps, viewer, { type: 'demo.noop', payload }, budget);
    expect(r.userErrors).toEqual([tooLarge(['input', 'payload'])]);
    expect(countsOf(payload).most).toBeLessThan(MAX_PAYLOAD_BYTES + 2000);
    expect(budget.left).toBe(1000);
  });

  it('in submitJobs, naming its input rather than the budget, the count stopping at the one past the budget', async () => {
    const payload = huge();
    const after = { after: 1 };
    const budget = payloadBudget(2 * 1024 * 1024);
    const r = await submitBatch(deps, viewer, [{ type: 'demo.noop' }, { type: 'demo.noop', payload }, { type: 'demo.noop', payload: after }], budget);
    expect(r.userErrors).toEqual([tooLarge(['inputs', '1', 'payload'])]);
    expect(countsOf(payload).most).toBeLessThan(2 * 1024 * 1024 + 2000);
    expect(countsOf(after).times).toBe(0);
  });
});

it('a lone payload within MAX_PAYLOAD_BYTES but past a budget set below it is refused by the budget, nothing else checked', async () => {
  const payload = { pad: 'x'.repeat(100 * 1024) };
  const r = await submitOne(deps, viewer, { type: 'demo.noop', payload, maxAttempts: 0 }, payloadBudget(64 * 1024));
  expect(r.userErrors).toEqual([
    { code: 'OUT_OF_RANGE', field: ['input', 'payload'], message: `the payload is more than ${64 * 1024} bytes as JSON text, the most one request may carry` },
  ]);
});
