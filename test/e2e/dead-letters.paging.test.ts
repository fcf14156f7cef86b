/**
 * `deadLetters` pages: newest first, and `pageInfo` tells the truth about what lies around a page, also
 * once a dead letter before the cursor was replayed with `retryJob` (an operator working through the list).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { LongrunClient } from '../../sdk/index.js';
import { startTestApp, workerSwitch, type TestApp } from '../support/app.js';
import { eventually } from '../support/receivers.js';
import { gql } from '../support/graphql.js';
import { sdkFor } from '../support/sdk.js';

const DEAD = /* GraphQL */ `
  query Dead($first: Int, $after: String) {
    deadLetters(first: $first, after: $after) {
      totalCount edges { cursor node { id } } pageInfo { hasNextPage hasPreviousPage endCursor }
    }
  }
`;

let t: TestApp;
let sdk: LongrunClient;
/** The dead letters, newest first. */
let ids: string[];
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
  const r = await sdk.submitJobs(Array.from({ length: 3 }, () => ({ type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 })));
  expect(r.userErrors).toEqual([]);
  const workers = workerSwitch(t);
  await workers.start();
  const all = await eventually(async () => {
    const d = (await gql(t.url, DEAD, { first: 10 })).body.data.deadLetters;
    // Both: totalCount is its own statement, read after the page's, so it can count a third that the page missed.
    return d.totalCount === 3 && d.edges.length === 3 ? d : undefined;
  }, 30_000, 'three dead letters');
  await workers.stop(); // a replayed job now stays QUEUED
  ids = all.edges.map((e: { node: { id: string } }) => e.node.id);
});
afterAll(async () => {
  await sdk?.close();
  await t?.dispose();
});

const page = async (after: string | null) => (await gql(t.url, DEAD, { first: 1, after })).body.data.deadLetters;

describe('deadLetters paging', () => {
  it('says whether a dead letter lies before the page, also after the one there was replayed', async () => {
    const first = await page(null);
    expect(first.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[0]]);
    expect(first.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });

    const second = await page(first.pageInfo.endCursor);
    expect(second.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[1]]);
    expect(second.pageInfo).toMatchObject({ hasPreviousPage: true, hasNextPage: true });

    // The newest is replayed: nothing is dead-lettered before the second page any more.
    expect((await sdk.retryJob(ids[0]!)).userErrors).toEqual([]);
    const again = await page(first.pageInfo.endCursor);
    expect(again.edges.map((e: { node: { id: string } }) => e.node.id)).toEqual([ids[1]]);
    expect(again.pageInfo).toMatchObject({ hasPreviousPage: false, hasNextPage: true });
    expect(again.totalCount).toBe(2);
  });
});
