/**
 * Bad input gets its code, and nothing is written: no job row, no outbox entry, no stream message.
 * Idempotency keys: one row, one message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { countRows, startTestApp, type TestApp } from '../support/app.js';
import { eventually, probeStreams, type StreamProbe } from '../support/streams.js';
import { names } from '../../src/messaging/names.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { soonJob } from '../support/soon-job.js';

let t: TestApp;
let probe: StreamProbe;
let jobsStream: string;

beforeAll(async () => {
  // No workers: messages stay in the stream to be counted. test.soon: at most 5 deliveries.
  t = await startTestApp({ handlers: null, types: [...BUILTIN_JOB_TYPES, soonJob] });
  probe = await probeStreams(t.env.natsUrl);
  jobsStream = names(t.env.prefix).jobsStream;
});
afterAll(async () => {
  await probe?.close();
  await t?.dispose();
});

async function snapshot() {
  return {
    jobs: await countRows(t.env.sql, 'jobs'),
    outbox: await countRows(t.env.sql, 'outbox'),
    events: await countRows(t.env.sql, 'job_events'),
    stream: await probe.state(jobsStream),
  };
}

async function rawPost(body: string, contentType = 'application/json') {
  const res = await fetch(t.url, { method: 'POST', headers: { 'content-type': contentType, authorization: `Bearer ${t.key}` }, body });
  return { status: res.status, body: await res.json() };
}

it('jobTypes answers the most maxAttempts a submit may ask for (fewer than 100 when the type allows fewer deliveries), and a submit past it is refused naming it', async () => {
  const types = (await gql(t.url, '{ jobTypes { name defaultMaxAttempts maxAttempts } }')).body.data.jobTypes;
  expect(types).toContainEqual({ name: 'test.soon', defaultMaxAttempts: 1, maxAttempts: 5 });
  expect(types).toContainEqual({ name: 'demo.sleep', defaultMaxAttempts: 3, maxAttempts: 100 });
  const before = await snapshot();
  const refused = (await gql(t.url, SUBMIT, { input: { type: 'test.soon', payload: {}, maxAttempts: 6 } })).body.data.submitJob;
  expect(refused.userErrors).toEqual([{ code: 'OUT_OF_RANGE', field: ['input', 'maxAttempts'], message: 'maxAttempts must be between 1 and 5' }]);
  expect(await snapshot()).toEqual(before);
  expect((await gql(t.url, SUBMIT, { input: { type: 'test.soon', payload: {}, maxAttempts: 5 } })).body.data.submitJob.userErrors).toEqual([]);
});

describe('bad input writes and publishes nothing', () => {
  const cases: [string, Record<string, unknown>, string, string[]][] = [
    ['unknown type', { type: 'no.such.type', payload: {} }, 'UNKNOWN_JOB_TYPE', ['input', 'type']],
    ['payload failing its schema', { type: 'demo.sleep', payload: { ms: 'soon' } }, 'INVALID_PAYLOAD', ['input', 'payload', 'ms']],
    ['payload with an unknown field', { type: 'demo.sleep', payload: { ms: 1, colour: 'red' } }, 'INVALID_PAYLOAD', ['input', 'payload']],
    ['maxAttempts 0', { type: 'demo.sleep', payload: { ms: 1 }, maxAttempts: 0 }, 'OUT_OF_RANGE', ['input', 'maxAttempts']],
    ['maxAttempts 101', { type: 'demo.sleep', payload: { ms: 1 }, maxAttempts: 101 }, 'OUT_OF_RANGE', ['input', 'maxAttempts']],
  ];
  for (const [name, input, code, field] of cases) {
    it(`${name} → ${code}`, async () => {
      const before = await snapshot();
      const r = await gql(t.url, SUBMIT, { input });
      expect(r.status).toBe(200);
      expect(r.body.data.submitJob.job).toBeNull();
      expect(r.body.data.submitJob.userErrors).toContainEqual(expect.objectContaining({ code, field }));
      await new Promise((r) => setTimeout(r, 300)); // give a wrongly published message time to show
      expect(await snapshot()).toEqual(before);
    });
  }

  it('an unknown type named by a megabyte → UNKNOWN_JOB_TYPE, whose message quotes only the start of the name', async () => {
    const type = `no.such.type.${'x'.repeat(1_000_000)}`;
    const r = await gql(t.url, SUBMIT, { input: { type } });
    expect(r.body.data.submitJob.job).toBeNull();
    const [error] = r.body.data.submitJob.userErrors;
    expect(error).toMatchObject({ code: 'UNKNOWN_JOB_TYPE', field: ['input', 'type'] });
    expect(error.message).toMatch(/^unknown job type "no\.such\.type\.x+…"$/);
    expect(error.message.length).toBeLessThan(1024);
  });

  it('malformed JSON → 400 BAD_REQUEST as a GraphQL error body', async () => {
    const before = await snapshot();
    const r = await rawPost('{"query": "mutation { submitJob(');
    expect(r.status).toBe(400);
    expect(r.body.errors[0].extensions.code).toBe('BAD_REQUEST');
    expect(await snapshot()).toEqual(before);
  });

  it('a number past what a JavaScript number holds (1e400, JSON and GraphQL alike) → INVALID_PAYLOAD on it, not stored as null', async () => {
    const before = await snapshot();
    // JSON.parse reads 1e400 as Infinity, which JSON.stringify writes as null: the job would run with null.
    const variables = `{"input":{"type":"demo.noop","payload":{"order":{"total":1e400,"ok":1}}}}`;
    const json = await rawPost(`{"query":${JSON.stringify(SUBMIT)},"variables":${variables}}`);
    expect(json.status).toBe(200);
    expect(json.body.data.submitJob).toEqual({
      job: null,
      userErrors: [{ code: 'INVALID_PAYLOAD', field: ['input', 'payload', 'order', 'total'], message: expect.stringMatching(/^payload cannot be stored: .*1\.8e308/) }],
    });
    const literal = await gql(t.url, 'mutation { submitJob(input: { type: "demo.noop", payload: { list: [1, -1e999] } }) { job { id } userErrors { code field } } }');
    expect(literal.body.data.submitJob).toEqual({ job: null, userErrors: [{ code: 'INVALID_PAYLOAD', field: ['input', 'payload', 'list', '1'] }] });
    const whole = await rawPost(`{"query":${JSON.stringify(SUBMIT)},"variables":{"input":{"type":"demo.noop","payload":1e400}}}`);
    expect(whole.body.data.submitJob.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_PAYLOAD', field: ['input', 'payload'] })]);
    await new Promise((r) => setTimeout(r, 300));
    expect(await snapshot()).toEqual(before);
    // The largest number a JavaScript number holds is taken as it is.
    const max = await rawPost(`{"query":${JSON.stringify(SUBMIT)},"variables":{"input":{"type":"demo.noop","payload":{"n":1.7976931348623157e308}}}}`);
    expect(max.body.data.submitJob.job.payload).toEqual({ n: Number.MAX_VALUE });
  });

  it('an enum literal in a payload literal ({ a: FOO }) → GRAPHQL_VALIDATION_FAILED naming it, not a job with the key dropped', async () => {
    const before = await snapshot();
    for (const payload of ['{ a: FOO }', '{ a: [1, FOO] }', '{ ms: FOO }']) {
      const r = await gql(t.url, `mutation { submitJob(input: { type: "demo.noop", payload: ${payload} }) { job { id payload } userErrors { code } } }`);
      expect(r.body.data).toBeUndefined();
      expect(r.body.errors).toEqual([expect.objectContaining({ message: expect.stringContaining('JSON cannot represent the enum value FOO'), extensions: { code: 'GRAPHQL_VALIDATION_FAILED' } })]);
    }
    await new Promise((r) => setTimeout(r, 300));
    expect(await snapshot()).toEqual(before);
    // Quoted, it is a string, as ever.
    const quoted = await gql(t.url, 'mutation { submitJob(input: { type: "demo.noop", payload: { a: "FOO" } }) { job { payload } userErrors { code } } }');
    expect(quoted.body.data.submitJob).toEqual({ job: { payload: { a: 'FOO' } }, userErrors: [] });
  });

  it('invalid GraphQL → GRAPHQL_PARSE_FAILED; wrong field → GRAPHQL_VALIDATION_FAILED', async () => {
    const before = await snapshot();
    const parse = await gql(t.url, 'mutation { submitJob(input: { type: "demo.sleep" ');
    expect(parse.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_PARSE_FAILED');
    const invalid = await gql(t.url, 'mutation { submitJob(input: { type: "demo.sleep", colour: 1 }) { job { id } } }');
    expect(invalid.body.errors?.[0]?.extensions?.code).toBe('GRAPHQL_VALIDATION_FAILED');
    const badVar = await gql(t.url, SUBMIT, { input: { type: 5 } });
    expect(badVar.body.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect(await snapshot()).toEqual(before);
  });
});

describe('idempotency key', () => {
  it('two submits with one key: the first job back, one row, one stream message', async () => {
    const before = await snapshot();
    const input = { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'order-42' };
    const a = (await gql(t.url, SUBMIT, { input })).body.data.submitJob;
    const b = (await gql(t.url, SUBMIT, { input })).body.data.submitJob;
    expect(a.userErrors).toEqual([]);
    expect(b.job.id).toBe(a.job.id);
    expect(await countRows(t.env.sql, 'jobs', `idempotency_key = 'order-42'`)).toBe(1);
    await eventually(async () => (await probe.state(jobsStream)).lastSeq > before.stream.lastSeq, 'the message is published');
    await new Promise((r) => setTimeout(r, 500));
    const after = await probe.state(jobsStream);
    expect(after.lastSeq - before.stream.lastSeq).toBe(1);
    expect(await countRows(t.env.sql, 'outbox', 'published_at is null')).toBe(0);
  });

  it('concurrent submits (grouped into shared commits) each get their own job; a key repeated across them, one job', async () => {
    const inputs = Array.from({ length: 60 }, (_, i) => ({ type: 'demo.sleep', payload: { ms: i }, idempotencyKey: `burst-${i % 30}` }));
    const results = await Promise.all(inputs.map((input) => gql(t.url, SUBMIT, { input })));
    const jobs = results.map((r) => r.body.data.submitJob.job);
    for (let i = 0; i < 30; i++) {
      expect(jobs[i + 30].id).toBe(jobs[i].id);
      expect([i, i + 30]).toContain(jobs[i].payload.ms); // whichever of the two committed first
    }
    expect(new Set(jobs.map((j) => j.id)).size).toBe(30);
    expect(await countRows(t.env.sql, 'jobs', `idempotency_key like 'burst-%'`)).toBe(30);
  });

  it('counts a key\'s length in characters (255), so one outside the Basic Multilingual Plane (emoji, CJK extensions) is not cut to half', async () => {
    const submit = async (idempotencyKey: string) => (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', idempotencyKey } })).body.data.submitJob;
    const emoji = '😀'.repeat(255); // 255 characters, 510 UTF-16 code units
    const first = await submit(emoji);
    expect(first.userErrors).toEqual([]);
    expect((await submit(emoji)).job.id).toBe(first.job.id);
    const [row] = await t.env.sql<{ key: string }[]>`select idempotency_key as key from jobs where id = ${first.job.id}`;
    expect(row?.key).toBe(emoji);
    expect((await submit('𠀀'.repeat(200))).userErrors).toEqual([]);
    for (const tooLong of ['😀'.repeat(256), 'k'.repeat(256)]) {
      expect((await submit(tooLong)).userErrors).toEqual([
        { code: 'OUT_OF_RANGE', field: ['input', 'idempotencyKey'], message: 'idempotencyKey must be 1..255 characters, none of them NUL or an unpaired surrogate' },
      ]);
    }
  });

  it('a batch racing a submit that gives one of its keys to another type: the batch refused whole, or its own job; never the other type\'s', async () => {
    const BATCH = `mutation B($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id type } userErrors { code field } } }`;
    const outcomes = new Set<string>();
    for (let i = 0; i < 30; i++) {
      const key = `race-${i}`;
      const [batch, lone] = await Promise.all([
        gql(t.url, BATCH, { inputs: [{ type: 'demo.noop', idempotencyKey: key }, { type: 'demo.noop', payload: { round: i } }] }),
        gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: key } }),
      ]);
      const b = batch.body.data.submitJobs;
      const a = lone.body.data.submitJob;
      const [holder] = await t.env.sql<{ id: string; type: string }[]>`select id, type from jobs where idempotency_key = ${key}`;
      const rest = await countRows(t.env.sql, 'jobs', `payload = '{"round": ${i}}'::jsonb`);
      if (b.jobs) {
        // The batch took the key first: its own job, and the submit of the other type is refused.
        expect(b.jobs.map((j: { type: string }) => j.type)).toEqual(['demo.noop', 'demo.noop']);
        expect(holder).toEqual({ id: b.jobs[0].id, type: 'demo.noop' });
        expect(a).toMatchObject({ job: null, userErrors: [{ code: 'IDEMPOTENCY_KEY_REUSED' }] });
        expect(rest).toBe(1);
        outcomes.add('batch');
      } else {
        // The other submit took it: the batch is refused, and nothing of it is written.
        expect(b.userErrors).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['inputs', '0', 'idempotencyKey'] }]);
        expect(holder).toEqual({ id: a.job.id, type: 'demo.sleep' });
        expect(rest).toBe(0);
        outcomes.add('submit');
      }
    }
    expect(outcomes.has('submit')).toBe(true);
  });

  it('a key taken by a job of another type is refused with IDEMPOTENCY_KEY_REUSED, never answered with that job', async () => {
    const first = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'invoice-7' } })).body.data.submitJob;
    expect(first.userErrors).toEqual([]);
    const before = await snapshot();
    const refused = {
      code: 'IDEMPOTENCY_KEY_REUSED',
      message: `idempotencyKey "invoice-7" names job ${first.job.id}, of type demo.sleep, not demo.noop`,
    };
    const other = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', idempotencyKey: 'invoice-7' } })).body.data.submitJob;
    expect(other).toEqual({ job: null, userErrors: [{ ...refused, field: ['input', 'idempotencyKey'] }] });
    // In a batch: the whole batch is refused and nothing of it written, as for any bad input.
    const BATCH = `mutation B($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code field message } } }`;
    const batch = (await gql(t.url, BATCH, { inputs: [{ type: 'demo.noop' }, { type: 'demo.noop', idempotencyKey: 'invoice-7' }] })).body.data.submitJobs;
    expect(batch).toEqual({ jobs: null, userErrors: [{ ...refused, field: ['inputs', '1', 'idempotencyKey'] }] });
    const within = (await gql(t.url, BATCH, { inputs: [{ type: 'demo.noop', idempotencyKey: 'k-9' }, { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'k-9' }] })).body.data.submitJobs;
    expect(within.jobs).toBeNull();
    expect(within.userErrors).toEqual([{ code: 'IDEMPOTENCY_KEY_REUSED', field: ['inputs', '1', 'idempotencyKey'], message: 'idempotencyKey "k-9" names the job of input 0, of type demo.noop, not demo.sleep' }]);
    const after = await snapshot();
    expect({ jobs: after.jobs, outbox: after.outbox }).toEqual({ jobs: before.jobs, outbox: before.outbox });
    // The same type with the same key is still the first job.
    const again = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1 }, idempotencyKey: 'invoice-7' } })).body.data.submitJob;
    expect(again.job.id).toBe(first.job.id);
  });
});
