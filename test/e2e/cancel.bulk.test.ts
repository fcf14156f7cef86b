/**
 * Cancelling jobs in bulk (`cancelJobs`): by ids, where what cannot be cancelled is skipped and the rest go
 * ahead, and by filter a page at a time, bounded by `submittedBefore` so that jobs submitted since are left
 * alone. Each job is cancelled as `cancelJob` cancels one: a waiting job never runs, a running job's handler
 * is aborted and the job ends CANCELLED; only the caller's own jobs are touched; refused input cancels nothing.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LongrunClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { sdkFor } from '../support/sdk.js';

const CANCEL_JOBS = /* GraphQL */ `
  mutation CancelJobs($input: CancelJobsInput!) {
    cancelJobs(input: $input) {
      cancelled cancelRequested hasMore submittedBefore
      jobs { id state }
      skipped { id code message }
      userErrors { code field message }
    }
  }
`;

const LATER = new Date(Date.now() + 3_600_000).toISOString();

let t: TestApp;
const sdks: LongrunClient[] = [];
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  for (const s of sdks) await s.close();
  await t?.dispose();
});

/** A tenant: its own key (not an admin), and requests with it. */
async function tenant(owner = `tenant-${randomUUID()}`) {
  const { key } = await t.createKey(owner);
  const headers = { authorization: bearer(key) };
  return {
    key,
    cancelJobs: async (input: Record<string, unknown>) => (await gql(t.url, CANCEL_JOBS, { input }, headers)).body.data.cancelJobs,
    async submit(input: Record<string, unknown>): Promise<string> {
      const r = (await gql(t.url, SUBMIT, { input }, headers)).body.data.submitJob;
      expect(r.userErrors).toEqual([]);
      return r.job.id;
    },
    /** `count` jobs that wait (QUEUED, due in an hour) of `type`. */
    async waiting(count: number, type = 'demo.noop'): Promise<string[]> {
      const ids: string[] = [];
      const payload = type === 'demo.sleep' ? { ms: 0 } : {};
      for (let i = 0; i < count; i++) ids.push(await this.submit({ type, payload, runAt: LATER }));
      return ids;
    },
  };
}

const stateOf = async (id: string) => (await t.env.sql<{ state: string }[]>`select state from jobs where id = ${id}`)[0]?.state;
const statesOf = (ids: string[]) => Promise.all(ids.map(stateOf));
const running = (id: string) => waitForJob(t.url, id, (j) => j.state === 'RUNNING');

describe('cancelJobs by ids', () => {
  it('cancels the waiting and running jobs named, skips the rest with why, and writes nothing for those', async () => {
    const me = await tenant();
    const other = await tenant();
    const [queued] = await me.waiting(1);
    const long = await me.submit({ type: 'demo.sleep', payload: { ms: 60_000, steps: 600 } });
    await running(long);
    const done = await me.submit({ type: 'demo.noop', payload: {} });
    const finished = await waitForJob(t.url, done, (j) => j.state === 'SUCCEEDED');
    const [theirs] = await other.waiting(1);
    const unknown = randomUUID();

    const r = await me.cancelJobs({ ids: [queued, long, done, theirs, unknown, 'not-a-uuid', queued!.toUpperCase()] });
    expect(r.userErrors).toEqual([]);
    expect(r.cancelled).toBe(1);
    expect(r.cancelRequested).toBe(1);
    expect(r.jobs).toEqual([
      { id: queued, state: 'CANCELLED' },
      { id: long, state: 'RUNNING' },
    ]);
    expect(r.hasMore).toBe(false);
    expect(r.submittedBefore).toBeNull();
    expect(r.skipped).toEqual([
      { id: done, code: 'INVALID_STATE', message: 'a SUCCEEDED job cannot be cancelled' },
      { id: theirs, code: 'NOT_FOUND', message: 'job not found' },
      { id: unknown, code: 'NOT_FOUND', message: 'job not found' },
      { id: 'not-a-uuid', code: 'NOT_FOUND', message: 'job not found' },
    ]);

    // The running one's handler is aborted and it ends CANCELLED, long before its minute is up.
    const cancelled = await waitForJob(t.url, long, (j) => j.state === 'CANCELLED', 15_000);
    expect(cancelled.result).toBeNull();
    const q = await waitForJob(t.url, queued!, () => true);
    expect(q.events.map((e: { state: string }) => e.state)).toEqual(['QUEUED', 'CANCELLED']);
    // The finished job and the other tenant's are as they were.
    expect(await waitForJob(t.url, done, () => true)).toEqual(finished);
    expect(await stateOf(theirs!)).toBe('QUEUED');
  });

  it('an admin cancels anyone\'s jobs', async () => {
    const someone = await tenant();
    const ids = await someone.waiting(2);
    const r = (await gql(t.url, CANCEL_JOBS, { input: { ids } })).body.data.cancelJobs;
    expect(r).toMatchObject({ cancelled: 2, cancelRequested: 0, skipped: [], userErrors: [] });
    expect(await statesOf(ids)).toEqual(['CANCELLED', 'CANCELLED']);
  });
});

describe('cancelJobs by filter', () => {
  it('cancels a page at a time, those submitted first first, and leaves jobs submitted after the first call', async () => {
    const me = await tenant();
    const other = await tenant();
    const type = 'demo.noop';
    const mine = await me.waiting(5, type);
    const otherType = await me.waiting(2, 'demo.sleep');
    const theirs = await other.waiting(2, type);

    const first = await me.cancelJobs({ types: [type], limit: 2 });
    expect(first.userErrors).toEqual([]);
    expect(first.jobs).toEqual(mine.slice(0, 2).map((id) => ({ id, state: 'CANCELLED' })));
    expect(first.hasMore).toBe(true);
    expect(first.submittedBefore).not.toBeNull();
    const since = await me.waiting(1, type); // submitted after the first call: not in its pages

    const pages = [first];
    while (pages.at(-1)!.hasMore) {
      pages.push(await me.cancelJobs({ types: [type], limit: 2, submittedBefore: pages.at(-1)!.submittedBefore }));
    }
    expect(pages.map((p) => p.cancelled)).toEqual([2, 2, 1]);
    expect(pages.flatMap((p) => p.jobs.map((j: { id: string }) => j.id))).toEqual(mine);
    expect(await statesOf(mine)).toEqual(mine.map(() => 'CANCELLED'));
    expect(await statesOf([...since, ...otherType, ...theirs])).toEqual(['QUEUED', 'QUEUED', 'QUEUED', 'QUEUED', 'QUEUED']);

    // Without a bound, now: the job submitted since goes too, and nothing else of the type is left.
    const rest = await me.cancelJobs({ types: [type] });
    expect(rest).toMatchObject({ cancelled: 1, hasMore: false, jobs: [{ id: since[0], state: 'CANCELLED' }] });
  });

  it('matches no job for a type name no job can have (NUL in it), as the job lists do', async () => {
    const me = await tenant();
    const ids = await me.waiting(1, 'demo.noop');
    for (const types of [['\u0000'], ['demo.noop\u0000x'], ['\u0000', 'demo.sleep']]) {
      const r = await me.cancelJobs({ types });
      expect(r).toMatchObject({ userErrors: [], cancelled: 0, jobs: [], hasMore: false });
    }
    expect(await statesOf(ids)).toEqual(['QUEUED']);
  });

  it('asks the workers of RUNNING jobs to stop, and does not count them as left once asked', async () => {
    const me = await tenant();
    const ids = [
      await me.submit({ type: 'demo.sleep', payload: { ms: 60_000, steps: 600 } }),
      await me.submit({ type: 'demo.sleep', payload: { ms: 60_000, steps: 600 } }),
    ];
    const [waiting] = await me.waiting(1, 'demo.sleep');
    for (const id of ids) await running(id);

    const r = await me.cancelJobs({ states: ['RUNNING'], limit: 1 });
    expect(r).toMatchObject({ cancelled: 0, cancelRequested: 1, hasMore: true, jobs: [{ id: ids[0], state: 'RUNNING' }] });
    const r2 = await me.cancelJobs({ states: ['RUNNING'], submittedBefore: r.submittedBefore });
    expect(r2).toMatchObject({ cancelled: 0, cancelRequested: 1, hasMore: false, jobs: [{ id: ids[1], state: 'RUNNING' }] });
    for (const id of ids) await waitForJob(t.url, id, (j) => j.state === 'CANCELLED', 15_000);
    expect(await stateOf(waiting!)).toBe('QUEUED');
  });

  it('through the SDK, with every job of the viewer\'s that is not finished by default', async () => {
    const owner = `tenant-${randomUUID()}`;
    const me = await tenant(owner);
    const ids = await me.waiting(3, 'demo.sleep');
    const sdk = sdkFor(t, { token: me.key });
    sdks.push(sdk);
    const r = await sdk.cancelJobs({});
    expect(r.cancelled).toBe(3);
    expect(r.jobs.map((j) => [j.id, j.state])).toEqual(ids.map((id) => [id, 'CANCELLED']));
    expect((await sdk.cancelJobs({})).cancelled).toBe(0);
  });
});

describe('cancelJobs refuses bad input and cancels nothing', () => {
  it.each([
    ['ids with a filter', { ids: ['x'], types: ['demo.noop'] }, 'CONFLICTING_INPUT', ['input', 'ids']],
    ['no ids', { ids: [] }, 'OUT_OF_RANGE', ['input', 'ids']],
    ['1,001 ids', { ids: Array.from({ length: 1001 }, () => randomUUID()) }, 'OUT_OF_RANGE', ['input', 'ids']],
    ['no types', { types: [] }, 'OUT_OF_RANGE', ['input', 'types']],
    ['no states', { states: [] }, 'OUT_OF_RANGE', ['input', 'states']],
    ['a finished state', { states: ['QUEUED', 'SUCCEEDED'] }, 'OUT_OF_RANGE', ['input', 'states', '1']],
    ['limit 0', { limit: 0 }, 'OUT_OF_RANGE', ['input', 'limit']],
    ['limit 1,001', { limit: 1001 }, 'OUT_OF_RANGE', ['input', 'limit']],
  ])('%s: %s', async (_what, input, code, field) => {
    const me = await tenant();
    const ids = await me.waiting(1);
    const r = await me.cancelJobs(input);
    expect(r.userErrors).toEqual([expect.objectContaining({ code, field })]);
    expect(r).toMatchObject({ cancelled: 0, cancelRequested: 0, jobs: [], hasMore: false, submittedBefore: null });
    expect(await statesOf(ids)).toEqual(['QUEUED']);
  });
});
