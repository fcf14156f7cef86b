/**
 * What PostgreSQL cannot store (U+0000, an unpaired surrogate) in a handler's result, progress message or
 * error fails only that job, never the others written in the same batch: a result fails its job for good,
 * a message or error is stored with U+FFFD in place. A thrown value with no JSON form, or an Error whose
 * message is no string (a Symbol, an object, a number, a getter that throws), is an attempt error like any
 * other, with a readable text; so is an Error of another realm (a `vm` context), and a `PermanentJobError`
 * of another realm fails the job at once.
 */
import vm from 'node:vm';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { PermanentJobError } from '../../src/errors.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

/** Texts a handler can make but PostgreSQL cannot store (a payload could not carry them in). */
const UNSTORABLE = { return: 'a\u0000b', report: 'c\ud800d', throw: 'e\u0000f', tojson: 'g\u0000h' } as const;
const echo = defineJobType({
  name: 'test.echo',
  description: 'returns, reports or throws a text',
  payload: z.object({ how: z.enum(['return', 'report', 'throw', 'tojson']), unstorable: z.boolean() }),
});
const handler = defineHandler(echo, async ({ how, unstorable }, ctx) => {
  const text = unstorable ? UNSTORABLE[how] : 'fine';
  if (how === 'report') ctx.progress(50, text);
  if (how === 'throw') throw new PermanentJobError(text);
  if (how === 'tojson') return { toJSON: () => ({ text }) }; // what is stored is what toJSON gives
  return { text: how === 'return' ? text : 'ok' };
});

/** Throws a value that is no Error and has no JSON form (JSON.stringify throws on it). */
const oddThrow = defineJobType({
  name: 'test.odd-throw',
  description: 'throws a BigInt, a circular object or an Error of another realm',
  payload: z.object({
    what: z.enum(['bigint', 'circular', 'bigint-result', 'circular-result', 'shared-result', 'getter-result', 'revoked-result', 'realm-permanent', 'realm-error']),
  }),
});
/** A `vm` context: its Error is not this realm's (`instanceof Error` is false), as in a sandbox or a test environment. */
const otherRealm = vm.createContext({});
const oddHandler = defineHandler(oddThrow, async ({ what }) => {
  if (what === 'bigint-result') return { n: 10n }; // returned, not thrown: a result with no JSON form
  if (what === 'bigint') throw 10n;
  if (what === 'getter-result') return { get size() { throw new Error('stream already closed'); } }; // a result that cannot be read
  if (what === 'revoked-result') {
    const draft = Proxy.revocable({ n: 1 }, {}); // as an immer draft returned after its producer finished
    draft.revoke();
    return { item: draft.proxy };
  }
  if (what === 'realm-permanent') {
    throw vm.runInContext(`class PermanentJobError extends Error { name = 'PermanentJobError' }; new PermanentJobError('no such image')`, otherRealm);
  }
  if (what === 'realm-error') throw vm.runInContext(`new TypeError('fetch failed')`, otherRealm);
  const e: Record<string, unknown> = { code: 'E_ODD' };
  e.self = e;
  if (what === 'circular-result') return { items: [{ parent: e }] }; // returned: a result that contains itself
  if (what === 'shared-result') {
    // 40 levels, each holding the next twice: 81 objects, 2^40 as JSON writes them out (no cycle).
    let level: unknown = { leaf: true };
    for (let i = 0; i < 40; i++) level = { l: level, r: level };
    return level;
  }
  throw e;
});

/** Throws an Error whose `message` is not a string. */
const MESSAGES = {
  symbol: () => Symbol('boom'),
  object: () => ({ code: 'E_OBJ' }),
  number: () => 42,
  getter: () => {
    throw new Error('no message for you');
  },
} as const;
const oddMessage = defineJobType({
  name: 'test.odd-message',
  description: 'throws an Error whose message is a Symbol, an object, a number or a getter that throws',
  payload: z.object({ message: z.enum(['symbol', 'object', 'number', 'getter']), inToJson: z.boolean().default(false) }),
});
const oddMessageHandler = defineHandler(oddMessage, async ({ message, inToJson }) => {
  const fail = () => {
    const e = new Error('replaced below');
    Object.defineProperty(e, 'message', message === 'getter' ? { get: MESSAGES.getter } : { value: MESSAGES[message]() });
    throw e;
  };
  if (inToJson) return { toJSON: fail }; // thrown while the result is checked
  return fail();
});

let t: TestApp;
let pool: WorkerPool | null = null;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, echo, oddThrow, oddMessage], handlers: null });
});
afterAll(async () => {
  await pool?.stop(5000);
  await t?.dispose();
});

const submit = async (how: keyof typeof UNSTORABLE, unstorable = true) =>
  (await gql(t.url, SUBMIT, { input: { type: 'test.echo', payload: { how, unstorable } } })).body.data.submitJob.job.id as string;

/** Submits a job of `type` for each value of the payload's `field`, then starts the pool: their ids by value. */
async function submitEach(type: string, field: string, values: string[], maxAttempts: number): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const v of values) {
    const r = await gql(t.url, SUBMIT, { input: { type, payload: { [field]: v }, maxAttempts } });
    ids[v] = r.body.data.submitJob.job.id;
  }
  pool ??= await startWorkerPool({ ...t.config, WORKER_CONCURRENCY: 50 }, t.app.deps, [handler, oddHandler, oddMessageHandler]);
  return ids;
}

it('fails only the job whose result cannot be stored; a message or error is stored with U+FFFD', async () => {
  // A backlog, so that the bad ones are claimed and completed in batches with the good ones.
  const good: string[] = [];
  for (let i = 0; i < 10; i++) good.push(await submit('return', false));
  const bad = await submit('return');
  const reported = await submit('report');
  const thrown = await submit('throw');
  const viaToJson = await submit('tojson');
  for (let i = 0; i < 10; i++) good.push(await submit('return', false));
  pool = await startWorkerPool({ ...t.config, WORKER_CONCURRENCY: 50 }, t.app.deps, [handler, oddHandler, oddMessageHandler]);

  const rows = async () =>
    t.env.sql<{ id: string; state: string; attempts: number; error: string | null; progressMessage: string | null }[]>`
      select id, state, attempts, error, progress_message as "progressMessage" from jobs where type = 'test.echo'`;
  for (const deadline = Date.now() + 30_000; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    if ((await rows()).every((r) => r.state === 'SUCCEEDED' || r.state === 'FAILED')) break;
  }
  const byId = new Map((await rows()).map((r) => [r.id, r]));
  expect(good.map((id) => byId.get(id)!.state)).toEqual(good.map(() => 'SUCCEEDED'));
  expect(good.every((id) => byId.get(id)!.attempts === 1)).toBe(true);
  expect(byId.get(bad)).toMatchObject({ state: 'FAILED', attempts: 1 });
  expect(byId.get(bad)!.error).toMatch(/result cannot be stored/);
  expect(byId.get(reported)).toMatchObject({ state: 'SUCCEEDED', progressMessage: 'c\ufffdd' });
  expect(byId.get(thrown)).toMatchObject({ state: 'FAILED', error: 'e\ufffdf', attempts: 1 });
  expect(byId.get(viaToJson)).toMatchObject({ state: 'FAILED', attempts: 1 });
  expect(byId.get(viaToJson)!.error).toMatch(/result cannot be stored/);
});

it('retries and fails a job whose handler throws a value with no JSON form, with that value as its error', async () => {
  const ids = await submitEach('test.odd-throw', 'what', ['bigint', 'circular'], 2);
  const job = (id: string) => waitForJob(t.url, id, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
  const big = await job(ids.bigint!);
  expect(big).toMatchObject({ state: 'FAILED', attempts: 2, error: '10n' });
  expect(big.attemptErrors.map((e: { message: string }) => e.message)).toEqual(['10n', '10n']);
  const circular = await job(ids.circular!);
  expect(circular).toMatchObject({ state: 'FAILED', attempts: 2 });
  expect(circular.error).toContain("code: 'E_ODD'");
  expect(circular.attemptErrors).toHaveLength(2);
});

it('fails for good, at its first attempt, a job whose result has no JSON form (a BigInt)', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.odd-throw', payload: { what: 'bigint-result' }, maxAttempts: 3 } });
  pool ??= await startWorkerPool({ ...t.config, WORKER_CONCURRENCY: 50 }, t.app.deps, [handler, oddHandler, oddMessageHandler]);
  const job = await waitForJob(t.url, r.body.data.submitJob.job.id, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
  expect(job).toMatchObject({ state: 'FAILED', attempts: 1 });
  expect(job.error).toMatch(/result cannot be stored as JSON.*BigInt/);
});

it('fails for good, at its first attempt, a job whose result cannot be read (a getter that throws, a revoked Proxy)', async () => {
  const ids = await submitEach('test.odd-throw', 'what', ['getter-result', 'revoked-result'], 3);
  const job = (id: string) => waitForJob(t.url, id, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
  expect(await job(ids['getter-result']!)).toMatchObject({
    state: 'FAILED',
    attempts: 1,
    error: "the handler's result cannot be stored as JSON: stream already closed",
  });
  expect(await job(ids['revoked-result']!)).toMatchObject({
    state: 'FAILED',
    attempts: 1,
    error: "the handler's result cannot be stored as JSON: Cannot perform 'ownKeys' on a proxy that has been revoked",
  });
});

it('fails for good a job whose result contains itself, saying so (not that it nests too deep)', async () => {
  const ids = await submitEach('test.odd-throw', 'what', ['circular-result'], 3);
  const job = await waitForJob(t.url, ids['circular-result']!, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
  expect(job).toMatchObject({ state: 'FAILED', attempts: 1, error: "the handler's result cannot be stored as JSON: it contains itself (a circular structure)" });
});

it('fails for good, at once, a job whose result shares its parts level after level (2^40 values as JSON): too large, without walking them all', async () => {
  const ids = await submitEach('test.odd-throw', 'what', ['shared-result'], 3);
  const job = await waitForJob(t.url, ids['shared-result']!, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
  expect(job).toMatchObject({ state: 'FAILED', attempts: 1 });
  expect(job.error).toMatch(/^the handler's result is more than \d+ bytes as JSON; the maximum is \d+ \(store large outputs elsewhere/);
});

it('retries and fails a job whose handler throws an Error with a message that is no string, with a readable error', async () => {
  const ids = await submitEach('test.odd-message', 'message', Object.keys(MESSAGES), 2);
  const expected: Record<string, string> = {
    symbol: 'Symbol(boom)',
    object: '{"code":"E_OBJ"}',
    number: '42',
    getter: 'Error (its message could not be read: no message for you)',
  };
  for (const [message, error] of Object.entries(expected)) {
    const job = await waitForJob(t.url, ids[message]!, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
    expect({ message, state: job.state, attempts: job.attempts, error: job.error }).toEqual({ message, state: 'FAILED', attempts: 2, error });
    expect(job.attemptErrors.map((e: { message: string }) => e.message)).toEqual([error, error]);
  }
});

it("fails for good a job whose result's toJSON throws an Error with a Symbol message, saying so", async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'test.odd-message', payload: { message: 'symbol', inToJson: true }, maxAttempts: 3 } });
  pool ??= await startWorkerPool({ ...t.config, WORKER_CONCURRENCY: 50 }, t.app.deps, [handler, oddHandler, oddMessageHandler]);
  const job = await waitForJob(t.url, r.body.data.submitJob.job.id, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
  expect(job).toMatchObject({ state: 'FAILED', attempts: 1, error: "the handler's result cannot be stored as JSON: Symbol(boom)" });
});

it('reads an Error thrown from another realm by its message, and fails a job at once on its PermanentJobError', async () => {
  const ids = await submitEach('test.odd-throw', 'what', ['realm-permanent', 'realm-error'], 2);
  const job = (id: string) => waitForJob(t.url, id, (j) => j.state === 'FAILED' || j.state === 'SUCCEEDED');
  expect(await job(ids['realm-permanent']!)).toMatchObject({ state: 'FAILED', attempts: 1, error: 'no such image' });
  const failed = await job(ids['realm-error']!);
  expect(failed).toMatchObject({ state: 'FAILED', attempts: 2, error: 'fetch failed' });
  expect(failed.attemptErrors.map((e: { message: string }) => e.message)).toEqual(['fetch failed', 'fetch failed']);
});
