/**
 * Replaying FAILED jobs in bulk (`retryJobs`) and with a new timeout (`timeoutMs` on `retryJob` and
 * `retryJobs`): after a downstream outage the dead-lettered jobs are replayed by filter, a page at a time, or
 * by ids, and run again to SUCCEEDED; each is replayed as `retryJob` replays one (its dead-letter copy
 * removed, a `replayed` history row), only the caller's own jobs are touched, and refused input or a timeout
 * outside a type's range replays nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { ARRAYS_FROM } from '../../src/db/recordset.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { names, type Names } from '../../src/messaging/names.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import type { LongrunClient } from '../../sdk/index.js';
import { countRows, startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { outage, outageHandler, outageJob, slowHandler, slowJob } from '../support/outage-job.js';
import { holdJobRow } from '../support/held-row.js';
import { eventually } from '../support/receivers.js';
import { sdkFor } from '../support/sdk.js';
import { probeStreams, type StreamProbe } from '../support/streams.js';

const RETRY_JOBS = /* GraphQL */ `
  mutation RetryJobs($input: RetryJobsInput!) {
    retryJobs(input: $input) {
      retried hasMore failedBefore
      jobs { id state attempts }
      skipped { id code message }
      userErrors { code field message }
    }
  }
`;
const RETRY = /* GraphQL */ `
  mutation R($id: ID!, $timeoutMs: Int) { retryJob(id: $id, timeoutMs: $timeoutMs) { job { id state } userErrors { code field message } } }
`;
const DEAD = /* GraphQL */ `query { deadLetters(first: 100) { edges { node { id } } } }`;

let t: TestApp;
let probe: StreamProbe;
let n: Names;
const sdks: LongrunClient[] = [];
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, outageJob, slowJob], handlers: [...BUILTIN_HANDLERS, outageHandler, slowHandler] });
  probe = await probeStreams(t.env.natsUrl);
  n = names(t.env.prefix);
});
afterAll(async () => {
  for (const s of sdks) await s.close();
  await probe?.close();
  await t?.dispose();
});

/** A tenant: its own key (not an admin), and requests with it. */
async function tenant(owner: string) {
  const { key } = await t.createKey(owner);
  const headers = { authorization: bearer(key) };
  return {
    key,
    retryJobs: async (input: Record<string, unknown>) => (await gql(t.url, RETRY_JOBS, { input }, headers)).body.data.retryJobs,
    retryJob: async (id: string, timeoutMs?: number) => (await gql(t.url, RETRY, { id, timeoutMs }, headers)).body.data.retryJob,
    deadLetters: async () => (await gql(t.url, DEAD, {}, headers)).body.data.deadLetters.edges.map((e: { node: { id: string } }) => e.node.id) as string[],
    /** Submits `count` jobs and waits until each is FAILED and listed in deadLetters. */
    async failed(count: number, type = 'test.outage', input: Record<string, unknown> = {}): Promise<string[]> {
      const ids: string[] = [];
      for (let i = 0; i < count; i++) {
        const r = (await gql(t.url, SUBMIT, { input: { type, payload: {}, ...input } }, headers)).body.data.submitJob;
        expect(r.userErrors).toEqual([]);
        ids.push(r.job.id);
      }
      for (const id of ids) await waitForJob(t.url, id, (j) => j.state === 'FAILED');
      await eventually(async () => {
        const listed = await this.deadLetters();
        return ids.every((id) => listed.includes(id));
      }, 30_000, 'the jobs are dead-lettered');
      return ids;
    },
  };
}

const stateOf = async (id: string) => (await t.env.sql<{ state: string }[]>`select state from jobs where id = ${id}`)[0]?.state;
const succeeded = (ids: string[]) => Promise.all(ids.map((id) => waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED')));
const copiesInStream = async (type: string) => (await probe.state(n.deadLetterStream, n.deadLetterSubject(type, '*'))).messages;

describe('retryJobs', () => {
  it('replays the dead letters that match a filter, a page at a time, and they run again to SUCCEEDED', async () => {
    const a = await tenant('alice');
    outage.down = true;
    const [early] = await a.failed(1);
    await new Promise((r) => setTimeout(r, 20));
    const from = new Date();
    const ids = await a.failed(5);
    expect(await copiesInStream('test.outage')).toBe(6);
    outage.down = false; // the downstream is back

    const input: Record<string, unknown> = { types: ['test.outage'], failedAfter: from.toISOString(), onlyDeadLettered: true, limit: 2 };
    const pages = [];
    for (let more = true; more; ) {
      const page = await a.retryJobs(input);
      expect(page.userErrors).toEqual([]);
      expect(page.failedBefore).not.toBeNull();
      input.failedBefore = page.failedBefore;
      pages.push(page);
      more = page.hasMore;
    }
    expect(pages.map((p) => [p.retried, p.hasMore])).toEqual([[2, true], [2, true], [1, false]]);
    const replayed = pages.flatMap((p) => p.jobs.map((j: { id: string }) => j.id));
    expect([...replayed].sort()).toEqual([...ids].sort());
    for (const p of pages) for (const j of p.jobs) expect(j).toMatchObject({ state: 'QUEUED', attempts: 0 });

    const jobs = await succeeded(ids);
    for (const job of jobs) expect(job.events.some((e: { message: string | null }) => e.message === 'replayed')).toBe(true);
    // Their copies are gone from the dead-letter stream; the one before the window keeps its own.
    expect(await a.deadLetters()).toEqual([early]);
    expect(await copiesInStream('test.outage')).toBe(1);
    expect(await stateOf(early!)).toBe('FAILED');
  });

  it('replays a batch big enough to send its outbox entries as arrays (ARRAYS_FROM), each once, to SUCCEEDED', async () => {
    const a = await tenant('ada');
    outage.down = true;
    const ids = await a.failed(ARRAYS_FROM);
    outage.down = false;

    const r = await a.retryJobs({ ids });
    expect(r.userErrors).toEqual([]);
    expect([r.retried, r.skipped]).toEqual([ARRAYS_FROM, []]);
    await succeeded(ids);
    // One new entry each, for the job's second attempt series, on its type's subject.
    const entries = await t.env.sql<{ jobId: string; msgId: string; subject: string; body: unknown }[]>`
      select job_id as "jobId", msg_id as "msgId", subject, body from outbox where job_id in ${t.env.sql(ids)} and msg_id like '%:2'`;
    expect(entries.map((e) => e.jobId).sort()).toEqual([...ids].sort());
    for (const e of entries) {
      expect(e).toEqual({ jobId: e.jobId, msgId: `${e.jobId}:2`, subject: n.jobSubject('test.outage'), body: { id: e.jobId, type: 'test.outage', series: 2 } });
    }
  });

  it('replays by ids; an id it cannot replay is skipped with its reason, the others go ahead', async () => {
    const a = await tenant('anna');
    const b = await tenant('bob');
    outage.down = true;
    const [x, y] = await a.failed(2);
    const [theirs] = await b.failed(1);
    const ok = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } }, { authorization: bearer(a.key) })).body.data.submitJob.job.id;
    await waitForJob(t.url, ok, (j) => j.state === 'SUCCEEDED');
    outage.down = false;

    const missing = randomUUID();
    const r = await a.retryJobs({ ids: [x, ok, theirs, missing, 'not-an-id', y, x!.toUpperCase()] });
    expect(r.userErrors).toEqual([]);
    expect(r.retried).toBe(2);
    expect(r.hasMore).toBe(false);
    expect(r.failedBefore).toBeNull();
    expect(r.jobs.map((j: { id: string }) => j.id)).toEqual([x, y]);
    expect(r.skipped).toEqual([
      { id: ok, code: 'INVALID_STATE', message: 'a SUCCEEDED job cannot be retried (only FAILED jobs can)' },
      { id: theirs, code: 'NOT_FOUND', message: 'job not found' }, // another tenant's job is not there for anna
      { id: missing, code: 'NOT_FOUND', message: 'job not found' },
      { id: 'not-an-id', code: 'NOT_FOUND', message: 'job not found' },
    ]);
    await succeeded([x!, y!]);
    expect(await stateOf(theirs!)).toBe('FAILED');
    expect(await b.deadLetters()).toEqual([theirs]);
  });

  it('a job another transaction holds at the last page is not left behind: hasMore says so, the next call replays it', async () => {
    const f = await tenant('fay');
    outage.down = true;
    const ids = await f.failed(3);
    outage.down = false;
    // The dead-letter recorder's write on the last of them (its copy recorded again) is under way as the page is
    // taken: the replay skips the row it holds, which is still FAILED and dead-lettered when that write commits.
    const release = await holdJobRow(t.env.sql, ids[2]!);
    const first = await f.retryJobs({ types: ['test.outage'] });
    await release();
    expect(first).toMatchObject({ retried: 2, hasMore: true, userErrors: [] });
    expect(first.jobs.map((j: { id: string }) => j.id).sort()).toEqual(ids.slice(0, 2).sort());
    expect(await stateOf(ids[2]!)).toBe('FAILED');
    // The first call used to answer hasMore: false, and the job stayed FAILED after a run that said it was done.
    const next = await f.retryJobs({ types: ['test.outage'], failedBefore: first.failedBefore });
    expect(next).toMatchObject({ retried: 1, hasMore: false, jobs: [{ id: ids[2] }] });
    await succeeded(ids);
    expect(await f.deadLetters()).toEqual([]);
  });

  it("a tenant's filter replays only its own jobs", async () => {
    const c = await tenant('carol');
    const d = await tenant('dave');
    outage.down = true;
    const mine = await c.failed(2);
    const theirs = await d.failed(2);
    outage.down = false;
    const r = await c.retryJobs({ failedBefore: '2999-01-01T00:00:00.000Z' });
    expect(r.userErrors).toEqual([]);
    // A bound in the future is the server's now: the next page would not take these jobs if they failed again.
    expect(Date.parse(r.failedBefore)).toBeLessThanOrEqual(Date.now());
    expect(r.jobs.map((j: { id: string }) => j.id).sort()).toEqual([...mine].sort());
    await succeeded(mine);
    for (const id of theirs) expect(await stateOf(id)).toBe('FAILED');
    expect((await d.deadLetters()).sort()).toEqual([...theirs].sort());
    expect((await d.retryJobs({ types: ['test.outage'] })).retried).toBe(2);
    await succeeded(theirs);
  });

  it('refuses bad input with a code and the field, and writes nothing', async () => {
    const e = await tenant('erin');
    outage.down = true;
    const [failed] = await e.failed(1);
    const [slow] = await e.failed(1, 'test.slow', { payload: { ms: 1000 }, timeoutMs: 100 });
    outage.down = false;
    const before = {
      events: await countRows(t.env.sql, 'job_events'),
      outbox: await countRows(t.env.sql, 'outbox'),
      copies: await countRows(t.env.sql, 'jobs', 'dead_lettered_at is not null'),
    };
    const refused = async (input: Record<string, unknown>) => {
      const r = await e.retryJobs(input);
      expect(r).toMatchObject({ retried: 0, jobs: [], hasMore: false, failedBefore: null, skipped: [] });
      return r.userErrors.map((u: { code: string; field: string[] }) => [u.code, u.field.join('.')]);
    };
    expect(await refused({ ids: [failed], types: ['test.outage'] })).toEqual([['CONFLICTING_INPUT', 'input.ids']]);
    expect(await refused({ ids: [failed], limit: 5 })).toEqual([['CONFLICTING_INPUT', 'input.ids']]);
    expect(await refused({ ids: [] })).toEqual([['OUT_OF_RANGE', 'input.ids']]);
    expect(await refused({ ids: Array.from({ length: 1001 }, () => randomUUID()) })).toEqual([['OUT_OF_RANGE', 'input.ids']]);
    expect(await refused({ limit: 0 })).toEqual([['OUT_OF_RANGE', 'input.limit']]);
    expect(await refused({ limit: 1001 })).toEqual([['OUT_OF_RANGE', 'input.limit']]);
    expect(await refused({ types: [] })).toEqual([['OUT_OF_RANGE', 'input.types']]);
    expect(await refused({ types: ['test.outage', 'no.such'] })).toEqual([['UNKNOWN_JOB_TYPE', 'input.types.1']]);
    expect(await refused({ timeoutMs: 99 })).toEqual([['OUT_OF_RANGE', 'input.timeoutMs']]);
    // 20 s is within test.outage's range (10 min) but not test.slow's (10 s): neither job is replayed.
    const r = await e.retryJobs({ timeoutMs: 20_000 });
    expect(r.userErrors).toEqual([{ code: 'OUT_OF_RANGE', field: ['input', 'timeoutMs'], message: 'timeoutMs must be between 100 and 10000 for a test.slow job' }]);
    expect((await e.retryJobs({ ids: [failed, slow], timeoutMs: 20_000 })).userErrors[0].code).toBe('OUT_OF_RANGE');
    // An instant before year 1 (the DateTime scalar takes year 0, PostgreSQL does not) is refused as in a `jobs`
    // filter; it was an INTERNAL_SERVER_ERROR, 'internal error'.
    for (const field of ['failedAfter', 'failedBefore']) {
      const r = await gql(t.url, RETRY_JOBS, { input: { [field]: '0000-06-01T00:00:00Z' } }, { authorization: bearer(e.key) });
      expect(r.body.errors?.map((x) => [x.extensions?.code, x.message])).toEqual([
        ['BAD_USER_INPUT', `input.${field}: must be in year 1 or later`],
      ]);
    }

    expect(await stateOf(failed!)).toBe('FAILED');
    expect(await stateOf(slow!)).toBe('FAILED');
    expect({
      events: await countRows(t.env.sql, 'job_events'),
      outbox: await countRows(t.env.sql, 'outbox'),
      copies: await countRows(t.env.sql, 'jobs', 'dead_lettered_at is not null'),
    }).toEqual(before);
    expect((await e.deadLetters()).sort()).toEqual([failed, slow].sort());
  });
});

describe('replaying with timeoutMs', () => {
  it('a job that timed out succeeds when replayed with a longer timeout; without one it keeps its own (retryJob)', async () => {
    const f = await tenant('frank');
    const [once, again] = await f.failed(2, 'test.slow', { payload: { ms: 1500 }, timeoutMs: 300 });
    expect((await waitForJob(t.url, once!, () => true)).error).toBe('timed out after 300 ms');

    // Above the type's current timeout: refused, the job stays FAILED.
    expect(await f.retryJob(once!, 10_001)).toEqual({
      job: { id: once, state: 'FAILED' },
      userErrors: [{ code: 'OUT_OF_RANGE', field: ['timeoutMs'], message: 'timeoutMs must be between 100 and 10000 for a test.slow job' }],
    });
    expect(await f.retryJob(once!, 5000)).toEqual({ job: { id: once, state: 'QUEUED' }, userErrors: [] });
    expect((await succeeded([once!]))[0].result).toEqual({ slept: 1500 });

    expect((await f.retryJob(again!)).userErrors).toEqual([]);
    const [job] = await t.env.sql<{ timeout_ms: number }[]>`select timeout_ms from jobs where id = ${again!}`;
    expect(job!.timeout_ms).toBe(300);
    await waitForJob(t.url, again!, (j) => j.state === 'FAILED' && j.attemptErrors.length === 2);
    expect((await waitForJob(t.url, again!, () => true)).error).toBe('timed out after 300 ms');
  });

  it('through the SDK: retryJobs with timeoutMs, and retryJob with its option', async () => {
    const g = await tenant('gina');
    const sdk = sdkFor(t, { token: g.key });
    sdks.push(sdk);
    const ids = await g.failed(3, 'test.slow', { payload: { ms: 1000 }, timeoutMs: 200 });

    const r = await sdk.retryJobs({ ids: ids.slice(0, 2), timeoutMs: 4000 });
    expect(r.userErrors).toEqual([]);
    expect(r.retried).toBe(2);
    expect(r.jobs.map((j) => [j.id, j.state])).toEqual(ids.slice(0, 2).map((id) => [id, 'QUEUED']));
    expect((await sdk.retryJob(ids[2]!, { timeoutMs: 4000 })).job?.state).toBe('QUEUED');
    await succeeded(ids);

    const filtered = await sdk.retryJobs({ types: ['test.slow'] });
    expect(filtered).toMatchObject({ retried: 0, hasMore: false, userErrors: [] });
  });
});
