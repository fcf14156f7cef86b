/**
 * `jobs(filter, first, after, last, before)`: newest first, keyset cursors that stay put while jobs are
 * inserted, filters, totalCount, and the page-size limit. No workers: every job stays QUEUED.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LongrunClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { sdkFor } from '../support/sdk.js';
import { bearer, collect, gql, wsClient } from '../support/graphql.js';

let t: TestApp;
let sdk: LongrunClient;
/** Ids in the order the list shows them (newest first). */
let expected: string[] = [];

beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
  // Three batches: within a batch the jobs share created_at, so the id breaks the tie.
  for (const [type, n] of [['demo.sleep', 7], ['demo.flaky', 5], ['demo.sleep', 13]] as const) {
    const r = await sdk.submitJobs(Array.from({ length: n }, () => ({ type, payload: type === 'demo.sleep' ? { ms: 1 } : {} })));
    expect(r.userErrors).toEqual([]);
  }
  const all = await t.env.sql<{ id: string }[]>`select id from jobs order by created_at desc, id desc`;
  expected = all.map((r) => r.id);
});
afterAll(async () => {
  await sdk?.close();
  await t?.dispose();
});

async function pageThrough(pageSize: number, backwards = false): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  for (;;) {
    const page = await sdk.jobs(backwards ? { last: pageSize, before: cursor } : { first: pageSize, after: cursor });
    const got = page.edges.map((e) => e.node.id);
    if (backwards) ids.unshift(...got);
    else ids.push(...got);
    const more = backwards ? page.pageInfo.hasPreviousPage : page.pageInfo.hasNextPage;
    if (!more) return ids;
    cursor = backwards ? page.pageInfo.startCursor : page.pageInfo.endCursor;
  }
}

describe('jobs connection', () => {
  it('lists every job once, newest first, forwards and backwards, with totalCount', async () => {
    expect(await pageThrough(4)).toEqual(expected);
    expect(await pageThrough(6, true)).toEqual(expected);
    const first = await sdk.jobs({ first: 3 });
    expect(first.totalCount).toBe(25);
    expect(first.pageInfo).toMatchObject({ hasNextPage: true, hasPreviousPage: false });
    const last = await sdk.jobs({ last: 3 });
    expect(last.edges.map((e) => e.node.id)).toEqual(expected.slice(-3));
    expect(last.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
  });

  it('keeps a cursor stable while new jobs are inserted', async () => {
    const p1 = await sdk.jobs({ first: 5 });
    // Newer jobs arrive between two page requests.
    const inserted = await sdk.submitJobs(Array.from({ length: 4 }, () => ({ type: 'demo.sleep', payload: { ms: 1 } })));
    const p2 = await sdk.jobs({ first: 5, after: p1.pageInfo.endCursor });
    expect([...p1.edges, ...p2.edges].map((e) => e.node.id)).toEqual(expected.slice(0, 10));
    expect(p2.pageInfo.hasPreviousPage).toBe(true);
    // Paging back from the first page now finds the new jobs.
    const newer = await sdk.jobs({ last: 10, before: p1.pageInfo.startCursor });
    expect(new Set(newer.edges.map((e) => e.node.id))).toEqual(new Set(inserted.jobs!.map((j) => j.id)));
    expect(newer.pageInfo.hasNextPage).toBe(true);
    expected = [...newer.edges.map((e) => e.node.id), ...expected];
  });

  it('filters by type, state and creation time', async () => {
    const flaky = await sdk.jobs({ filter: { types: ['demo.flaky'] }, first: 100 });
    expect(flaky.totalCount).toBe(5);
    expect(flaky.edges.every((e) => e.node.type === 'demo.flaky')).toBe(true);
    expect(flaky.edges.map((e) => e.node.id)).toEqual(expected.filter((id) => flaky.edges.some((e) => e.node.id === id)));

    expect((await sdk.jobs({ filter: { states: ['QUEUED'] } })).totalCount).toBe(29);
    expect((await sdk.jobs({ filter: { states: ['SUCCEEDED', 'FAILED'] } })).totalCount).toBe(0);
    expect((await sdk.jobs({ filter: { types: ['demo.sleep'], states: ['QUEUED'] } })).totalCount).toBe(24);

    const all = await sdk.jobs({ first: 100 });
    const oldest = all.edges.at(-1)!.node.createdAt;
    expect((await sdk.jobs({ filter: { createdAfter: oldest } })).totalCount).toBe(29);
    expect((await sdk.jobs({ filter: { createdBefore: oldest } })).totalCount).toBe(0);
    expect((await sdk.jobs({ filter: { createdAfter: new Date(Date.now() + 60_000).toISOString() } })).totalCount).toBe(0);
  });

  it('filters by ids: the listed jobs only, newest first, each once, paged like the rest', async () => {
    const chosen = [expected[20]!, expected[3]!, expected[11]!, expected[7]!];
    const given = [...chosen, expected[3]!.toUpperCase(), 'not-a-job-id', '00000000-0000-4000-8000-000000000000'];
    const page = await sdk.jobs({ filter: { ids: given }, first: 100 });
    expect(page.totalCount).toBe(4);
    const newestFirst = expected.filter((id) => chosen.includes(id));
    expect(page.edges.map((e) => e.node.id)).toEqual(newestFirst);
    const p1 = await sdk.jobs({ filter: { ids: given }, first: 3 });
    expect(p1.pageInfo.hasNextPage).toBe(true);
    const p2 = await sdk.jobs({ filter: { ids: given }, first: 3, after: p1.pageInfo.endCursor });
    expect([...p1.edges, ...p2.edges].map((e) => e.node.id)).toEqual(newestFirst);
    expect(p2.pageInfo).toMatchObject({ hasNextPage: false, hasPreviousPage: true });
    // With the other fields: AND.
    const flaky = await sdk.jobs({ filter: { ids: expected, types: ['demo.flaky'] }, first: 100 });
    expect(flaky.totalCount).toBe(5);
    expect((await sdk.jobs({ filter: { ids: chosen, states: ['RUNNING'] } })).totalCount).toBe(0);
    // None given, or none that is a job id: nothing.
    for (const ids of [[], ['nope']]) {
      const none = await sdk.jobs({ filter: { ids }, first: 5 });
      expect(none.edges).toEqual([]);
      expect(none.totalCount).toBe(0);
    }
    await expect(sdk.jobs({ filter: { ids: Array.from({ length: 101 }, () => randomUUID()) } })).rejects.toMatchObject({
      code: 'BAD_USER_INPUT',
      message: 'filter.ids takes at most 100 values',
    });
  });

  it('refuses page sizes over 100, first with last, and a forged cursor', async () => {
    await expect(sdk.jobs({ first: 101 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(sdk.jobs({ last: -1 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(sdk.jobs({ first: 1, last: 1 })).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    await expect(sdk.jobs({ after: 'bm90LWEtY3Vyc29y' })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: 'invalid cursor' });
    expect((await sdk.jobs({ first: 100 })).edges).toHaveLength(29);
  });

  it('refuses an empty cursor (after or before, in jobs and deadLetters) instead of reading it as the first page', async () => {
    const empty = { code: 'BAD_USER_INPUT', message: 'invalid cursor: empty (leave it out for the first page)' };
    await expect(sdk.jobs({ after: '' })).rejects.toMatchObject(empty);
    await expect(sdk.jobs({ last: 5, before: '' })).rejects.toMatchObject(empty);
    await expect(sdk.deadLetters({ after: '' })).rejects.toMatchObject(empty);
  });

  it('refuses a forged cursor whose date PostgreSQL has no such day for (Feb 30, year 0), in jobs and deadLetters, instead of an internal error', async () => {
    const id = expected[0]!;
    for (const at of ['2026-02-30T00:00:00.000000Z', '0000-01-01T00:00:00.000000Z', '2026-12-01T24:00:00.000000Z']) {
      for (const list of ['jobs', 'deadLetters'] as const) {
        const cursor = Buffer.from(JSON.stringify([list, at, id])).toString('base64url');
        await expect(sdk[list]({ first: 5, after: cursor })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: 'invalid cursor' });
      }
    }
  });

  it('refuses createdAfter or createdBefore in year 0 (a date the scalar takes and PostgreSQL has not) with BAD_USER_INPUT', async () => {
    for (const filter of [{ createdAfter: '0000-06-01T00:00:00Z' }, { createdBefore: '0000-01-01T00:00:00Z' }]) {
      await expect(sdk.jobs({ filter })).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringMatching(/^filter\.created(After|Before): must be in year 1 or later/) });
    }
    expect((await sdk.jobs({ filter: { createdAfter: '0001-01-01T00:00:00Z' } })).totalCount).toBe(expected.length);
  });

  it('matches nothing for a type no job can have (a NUL in it), in jobs and deadLetters, instead of an internal error', async () => {
    const page = await sdk.jobs({ filter: { types: ['demo.sleep\u0000'] }, first: 5 });
    expect(page.edges).toEqual([]);
    expect(page.totalCount).toBe(0);
    const both = await sdk.jobs({ filter: { types: ['demo.sleep', 'demo.sleep\u0000'] }, first: 100 });
    expect(both.totalCount).toBe((await sdk.jobs({ filter: { types: ['demo.sleep'] }, first: 100 })).totalCount);
    const dl = await gql(t.url, 'query D($type: String) { deadLetters(type: $type, first: 5) { totalCount edges { cursor } } }', { type: 'x\u0000' });
    expect(dl.body).toEqual({ data: { deadLetters: { totalCount: 0, edges: [] } } });
  });

  it('reports throughput and the oldest queued age per type in queueStats', async () => {
    const stats = await sdk.queueStats();
    const sleep = stats.find((s) => s.type === 'demo.sleep')!;
    expect(sleep).toMatchObject({ queued: 24, running: 0, throughputLastMinute: 0 });
    expect(sleep.oldestQueuedAgeSeconds).toBeGreaterThanOrEqual(0);
    expect(stats.find((s) => s.type === 'demo.hash')).toMatchObject({ queued: 0, oldestQueuedAgeSeconds: null });
    // Cancelling finishes jobs: they count as throughput.
    const [a, b] = (await sdk.jobs({ filter: { types: ['demo.flaky'] }, first: 2 })).edges;
    await sdk.cancelJob(a!.node.id);
    await sdk.cancelJob(b!.node.id);
    const after = await sdk.queueStats();
    expect(after.find((s) => s.type === 'demo.flaky')).toMatchObject({ queued: 3, throughputLastMinute: 2 });
  });

  // Last: the owners' jobs would change the counts above.
  it("lists only the viewer's own jobs unless the viewer is an admin, over HTTP and graphql-ws", async () => {
    const owners = { alice: await t.createKey('alice'), bob: await t.createKey('bob') };
    const mine: Record<keyof typeof owners, string[]> = { alice: [], bob: [] };
    for (const [who, n] of [['alice', 2], ['bob', 3]] as const) {
      const client = sdkFor(t, { token: owners[who].key });
      try {
        const r = await client.submitJobs(Array.from({ length: n }, () => ({ type: 'demo.sleep', payload: { ms: 1 } })));
        expect(r.userErrors).toEqual([]);
        mine[who] = r.jobs!.map((j) => j.id);
      } finally {
        await client.close();
      }
    }
    const LIST = `{ jobs(first: 100) { totalCount edges { node { id } } } }`;
    const idsOf = (c: { totalCount: number; edges: { node: { id: string } }[] }) => c.edges.map((e) => e.node.id);
    // The admin (the test app's key, owner "test") sees everyone's jobs, its own included.
    const admin = await gql(t.url, LIST);
    expect(admin.body.data.jobs.totalCount).toBe(expected.length + 5);
    const all = idsOf(admin.body.data.jobs);
    expect(new Set(all)).toEqual(new Set([...expected, ...mine.alice, ...mine.bob]));
    for (const who of ['alice', 'bob'] as const) {
      mine[who] = all.filter((id) => mine[who].includes(id)); // in the list's order (newest first)
      const http = await gql(t.url, LIST, {}, { authorization: bearer(owners[who].key) });
      expect(http.body.errors).toBeUndefined();
      expect(idsOf(http.body.data.jobs)).toEqual(mine[who]);
      expect(http.body.data.jobs.totalCount).toBe(mine[who].length);
      const ws = wsClient(t.wsUrl, { authorization: bearer(owners[who].key) });
      try {
        const r = await collect(ws, LIST, {});
        expect(r.errors).toEqual([]);
        expect(idsOf(r.values[0])).toEqual(mine[who]);
        expect(r.values[0].totalCount).toBe(mine[who].length);
      } finally {
        await ws.dispose();
      }
    }
    // Another owner's ids match nothing: alice asking for hers and bob's gets hers.
    const BY_IDS = `query J($ids: [ID!]) { jobs(first: 100, filter: { ids: $ids }) { totalCount edges { node { id } } } }`;
    const asAlice = await gql(t.url, BY_IDS, { ids: [...mine.bob, ...mine.alice] }, { authorization: bearer(owners.alice.key) });
    expect(asAlice.body.errors).toBeUndefined();
    expect(idsOf(asAlice.body.data.jobs)).toEqual(mine.alice);
    expect(asAlice.body.data.jobs.totalCount).toBe(2);
  });
});
