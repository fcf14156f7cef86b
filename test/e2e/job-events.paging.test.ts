/**
 * `Job.events` of a long history, as a client sees it: without arguments the first 500 rows (a small
 * history whole, as before), pages forwards with `after`/`first` that add up to the whole history, the
 * newest rows with `last`, every page of a response's jobs answered from its own arguments, attempt errors
 * whole whatever page of events is asked for, refused sizes, the query-cost limit, and the SDK's `jobEvents`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LongrunClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { jobWithHistory } from '../support/history.js';
import { sdkFor } from '../support/sdk.js';

let t: TestApp;
let sdk: LongrunClient;
/** 1,203 rows: seq 1 QUEUED … 1,203 SUCCEEDED, attempt errors at 4 and 1,100. */
let long: { id: string; last: number };
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
  long = await jobWithHistory(t, 1200, 10, [4, 1100]);
});
afterAll(async () => {
  await sdk?.close();
  await t?.dispose();
});

const seqs = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** `job(id)` with `selection`; the job (data) and the error codes. */
async function job(id: string, selection: string) {
  const r = await gql(t.url, `query($id: ID!) { job(id: $id) { ${selection} } }`, { id });
  return { job: r.body.data?.job, codes: (r.body.errors ?? []).map((e) => e.extensions?.code) };
}

describe('Job.events', () => {
  it('answers the first 500 rows when asked with no arguments; a short history whole', async () => {
    const { job: j } = await job(long.id, 'events { seq state }');
    expect(j.events.map((e: { seq: number }) => e.seq)).toEqual(seqs(1, 500));
    expect(j.events[0].state).toBe('QUEUED');

    const small = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } })).body.data.submitJob.job.id;
    expect((await job(small, 'events { seq state }')).job.events).toEqual([{ seq: 1, state: 'QUEUED' }]);
  });

  it('pages forwards with after and first through the whole history; the short page is the last', async () => {
    const got: number[] = [];
    const sizes: number[] = [];
    for (let after = 0; ; ) {
      const { job: j } = await job(long.id, `events(after: ${after}, first: 500) { seq }`);
      const page = j.events.map((e: { seq: number }) => e.seq);
      got.push(...page);
      sizes.push(page.length);
      if (page.length < 500) break;
      after = page.at(-1);
    }
    expect(sizes).toEqual([500, 500, 203]);
    expect(got).toEqual(seqs(1, long.last));
  });

  it('answers the newest rows with last, in seq order, also after a seq', async () => {
    expect((await job(long.id, 'events(last: 3) { seq state }')).job.events).toEqual([
      { seq: 1201, state: 'RUNNING' },
      { seq: 1202, state: 'RUNNING' },
      { seq: 1203, state: 'SUCCEEDED' },
    ]);
    expect((await job(long.id, 'events(after: 1200, last: 10) { seq }')).job.events).toEqual([{ seq: 1201 }, { seq: 1202 }, { seq: 1203 }]);
    expect((await job(long.id, `events(after: ${long.last}) { seq }`)).job.events).toEqual([]);
  });

  it('answers each page of one response from its own arguments (several pages of one job, several jobs)', async () => {
    const other = await jobWithHistory(t, 20, 10);
    const { job: j } = await job(long.id, 'a: events(first: 2) { seq } b: events(after: 600, first: 2) { seq } c: events(last: 1) { seq }');
    expect(j).toEqual({ a: [{ seq: 1 }, { seq: 2 }], b: [{ seq: 601 }, { seq: 602 }], c: [{ seq: 1203 }] });
    const r = await gql(t.url, `{ jobs(first: 100) { edges { node { id events(last: 2) { seq } } } } }`);
    const newest = new Map(r.body.data.jobs.edges.map((e: any) => [e.node.id, e.node.events.map((x: { seq: number }) => x.seq)]));
    expect(newest.get(long.id)).toEqual([1202, 1203]);
    expect(newest.get(other.id)).toEqual([22, 23]);
  });

  it('keeps attemptErrors whole, whatever page of events is asked for', async () => {
    const { job: j } = await job(long.id, 'events(first: 1) { seq } attemptErrors { message }');
    expect(j.events).toEqual([{ seq: 1 }]);
    expect(j.attemptErrors).toEqual([{ message: 'failed at 4' }, { message: 'failed at 1100' }]);
  });

  it('refuses a page over 500, first with last, and a negative after, with BAD_USER_INPUT', async () => {
    for (const args of ['first: 501', 'last: 501', 'first: -1', 'first: 2, last: 2', 'after: -1']) {
      expect((await job(long.id, `events(${args}) { seq }`)).codes, args).toEqual(['BAD_USER_INPUT']);
    }
  });

  it('counts its page size in the query cost: a list of jobs with whole first pages is refused, their newest rows are not', async () => {
    const cost = async (q: string) => (await gql(t.url, q)).body.errors?.map((e) => e.extensions?.code) ?? [];
    expect(await cost('{ jobs(first: 20) { edges { node { events { seq state } } } } }')).toEqual(['QUERY_TOO_COSTLY']);
    expect(await cost('{ jobs(first: 20) { edges { node { events(last: 5) { seq state } } } } }')).toEqual([]);
    expect(await cost('query($n: Int) { jobs(first: 1) { edges { node { events(first: $n) { seq state progress message attempt at } } } } }')).toEqual([]);
  });
});

describe('SDK', () => {
  it('job() answers the first 500 rows; jobEvents() pages through the rest and gives the newest', async () => {
    expect((await sdk.job(long.id))!.events.map((e) => e.seq)).toEqual(seqs(1, 500));
    const got: number[] = [];
    for (let after = 0; ; ) {
      const page = (await sdk.jobEvents(long.id, { after, first: 500 }))!;
      got.push(...page.map((e) => e.seq));
      if (page.length < 500) break;
      after = page.at(-1)!.seq;
    }
    expect(got).toEqual(seqs(1, long.last));
    expect((await sdk.jobEvents(long.id, { last: 1 }))!.map((e) => [e.seq, e.state])).toEqual([[1203, 'SUCCEEDED']]);
    expect(await sdk.jobEvents('00000000-0000-4000-8000-000000000000')).toBeNull();
  });
});
