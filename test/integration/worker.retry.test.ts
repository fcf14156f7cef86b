/**
 * Retries with backoff, permanent errors, dead letters, replay and queue stats (issue: failures).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, JOB, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually, probeStreams, type StreamProbe } from '../support/streams.js';
import { names, type Names } from '../../src/messaging/names.js';

let t: TestApp;
let probe: StreamProbe;
let n: Names;

beforeAll(async () => {
  t = await startTestApp();
  probe = await probeStreams(t.env.natsUrl);
  n = names(t.env.prefix);
});
afterAll(async () => {
  await probe?.close();
  await t?.dispose();
});

const submit = async (input: Record<string, unknown>) => {
  const r = (await gql(t.url, SUBMIT, { input })).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  return r.job.id as string;
};

const DEAD_LETTERS = /* GraphQL */ `
  query DL($type: String) {
    deadLetters(first: 50, type: $type) {
      totalCount
      edges { cursor node { id state attempts error attemptErrors { attempt message } } }
      pageInfo { hasNextPage endCursor }
    }
  }
`;
const STATS = /* GraphQL */ `{ queueStats { type queued running retrying failed deadLetters } }`;
const RETRY = /* GraphQL */ `mutation R($id: ID!) { retryJob(id: $id) { job { id state attempts startedAt } userErrors { code message } } }`;

describe('retries', () => {
  it('flaky {failures: 2}, maxAttempts 5: RETRYING in between, SUCCEEDED on attempt 3, growing gaps', async () => {
    const id = await submit({ type: 'demo.flaky', payload: { failures: 2 }, maxAttempts: 5 });
    const retrying = await waitForJob(t.url, id, (j) => j.state === 'RETRYING');
    expect(retrying.nextAttemptAt).not.toBeNull();
    // The error of the attempt it retries after (the first, or the second when the poll came after it).
    expect(retrying.error).toBe(`flaky failure ${retrying.attempts} of 2`);

    const job = await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
    expect(job.attempts).toBe(3);
    expect(job.result).toEqual({ succeededOnAttempt: 3 });
    expect(job.nextAttemptAt).toBeNull();
    expect(job.attemptErrors.map((e: any) => [e.attempt, e.message])).toEqual([
      [1, 'flaky failure 1 of 2'],
      [2, 'flaky failure 2 of 2'],
    ]);
    const starts = job.events.filter((e: any) => e.state === 'RUNNING' && e.message === null).map((e: any) => Date.parse(e.at));
    expect(starts).toHaveLength(3);
    expect(job.events.filter((e: any) => e.state === 'RETRYING')).toHaveLength(2);
    const gaps = [starts[1] - starts[0], starts[2] - starts[1]];
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
  });

  it('flaky {failures: 99}, maxAttempts 3: exactly 3 attempts, FAILED, dead-lettered; retryJob runs it again', async () => {
    const id = await submit({ type: 'demo.flaky', payload: { failures: 99 }, maxAttempts: 3 });
    let job = await waitForJob(t.url, id, (j) => j.state === 'FAILED');
    expect(job.attempts).toBe(3);
    expect(job.attemptErrors.map((e: any) => e.attempt)).toEqual([1, 2, 3]);
    expect(job.error).toBe('flaky failure 3 of 99');

    // In deadLetters, in the dead-letter stream, not in the work stream, counted by queueStats.
    // Listed once the worker has recorded the dead-letter copy, a moment after the state changed.
    const dlNode = async () => (await gql(t.url, DEAD_LETTERS, { type: 'demo.flaky' })).body.data.deadLetters.edges.find((e: any) => e.node.id === id)?.node;
    await eventually(async () => (await dlNode()) !== undefined, 'the job is listed in deadLetters');
    const node = await dlNode();
    expect(node).toMatchObject({ state: 'FAILED', attempts: 3, error: 'flaky failure 3 of 99' });
    const dlSubject = n.deadLetterSubject('demo.flaky', '*');
    const inDlq = await probe.jsm.streams.getMessage(n.deadLetterStream, { last_by_subj: n.deadLetterSubject('demo.flaky', id) });
    expect(inDlq?.json<{ id: string }>().id).toBe(id);
    expect(inDlq?.header.get('Longrun-Error')).toBe('flaky failure 3 of 99');
    expect((await probe.state(n.jobsStream, n.jobSubject('demo.flaky'))).messages).toBe(0);
    const stats = (await gql(t.url, STATS)).body.data.queueStats.find((s: any) => s.type === 'demo.flaky');
    expect(stats.deadLetters).toBe((await probe.state(n.deadLetterStream, dlSubject)).messages);
    expect(stats.deadLetters).toBeGreaterThanOrEqual(1);
    expect(stats.failed).toBeGreaterThanOrEqual(1);

    const before = (await probe.state(n.deadLetterStream, dlSubject)).messages;
    const retried = (await gql(t.url, RETRY, { id })).body.data.retryJob;
    expect(retried.userErrors).toEqual([]);
    expect(retried.job).toMatchObject({ id, state: 'QUEUED', attempts: 0, startedAt: null }); // no attempt started yet
    expect((await probe.state(n.deadLetterStream, dlSubject)).messages).toBe(before - 1);

    job = await waitForJob(t.url, id, (j) => j.state === 'FAILED' && j.attempts === 3 && j.events.some((e: any) => e.message === 'replayed'));
    const replayAt = job.events.findIndex((e: any) => e.message === 'replayed');
    expect(job.events.slice(replayAt).filter((e: any) => e.state === 'RUNNING' && e.message === null)).toHaveLength(3);
    expect(job.attemptErrors).toHaveLength(6); // history kept across the replay
  });

  it('permanent: one attempt, FAILED, dead-lettered', async () => {
    const id = await submit({ type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 5 });
    const job = await waitForJob(t.url, id, (j) => j.state === 'FAILED');
    expect(job.attempts).toBe(1);
    expect(job.error).toBe('permanent failure on attempt 1');
    // Listed once the worker has recorded the dead-letter copy, a moment after the state changed.
    const listed = async () => (await gql(t.url, DEAD_LETTERS, { type: 'demo.flaky' })).body.data.deadLetters.edges.map((e: any) => e.node.id);
    await eventually(async () => (await listed()).includes(id), 'the job is listed in deadLetters');
    expect(await listed()).toContain(id);
  });

  it('retryJob of a job that is not FAILED answers INVALID_STATE', async () => {
    const id = await submit({ type: 'demo.sleep', payload: { ms: 0, steps: 0 } });
    await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
    const r = (await gql(t.url, RETRY, { id })).body.data.retryJob;
    expect(r.userErrors[0].code).toBe('INVALID_STATE');
  });

  it('a per-job timeout aborts the attempt and retries it', async () => {
    const id = await submit({ type: 'demo.sleep', payload: { ms: 5000, steps: 1 }, timeoutMs: 300, maxAttempts: 2 });
    const job = await waitForJob(t.url, id, (j) => j.state === 'FAILED');
    expect(job.attempts).toBe(2);
    expect(job.attemptErrors.map((e: any) => e.message)).toEqual(['timed out after 300 ms', 'timed out after 300 ms']);
  });
});

describe('paging dead letters', () => {
  it('pages with cursors, newest first, no overlap', async () => {
    const ids = [];
    for (let i = 0; i < 3; i++) {
      const id = await submit({ type: 'demo.flaky', payload: { permanent: true } });
      await waitForJob(t.url, id, (j) => j.state === 'FAILED');
      ids.push(id);
    }
    const Q = `query P($after: String) { deadLetters(first: 2, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }`;
    const seen: string[] = [];
    let after: string | null = null;
    let total = 0;
    for (;;) {
      const page: any = (await gql(t.url, Q, { after })).body.data.deadLetters;
      total = page.totalCount;
      seen.push(...page.edges.map((e: any) => e.node.id));
      if (!page.pageInfo.hasNextPage) break;
      after = page.pageInfo.endCursor;
    }
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.length).toBe(total);
    expect(seen.slice(0, 3)).toEqual([...ids].reverse());
  });

  it('refuses a cursor of the jobs list, which orders by another time and would give a wrong page', async () => {
    const jobsCursor = (await gql(t.url, `{ jobs(first: 1) { pageInfo { endCursor } } }`)).body.data.jobs.pageInfo.endCursor;
    const r = await gql(t.url, `query P($after: String) { deadLetters(first: 2, after: $after) { totalCount } }`, { after: jobsCursor });
    expect(r.body.errors?.[0]).toMatchObject({ message: 'invalid cursor: not one of deadLetters', extensions: { code: 'BAD_USER_INPUT' } });
  });
});

it('job(id) of an unknown id is null', async () => {
  const r = await gql(t.url, JOB, { id: '00000000-0000-4000-8000-000000000000' });
  expect(r.body.data.job).toBeNull();
});
