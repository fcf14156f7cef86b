/**
 * A one-off purge: the admin-only `purgeJobs` mutation and `longrun purge` on top of it (spawned as a user
 * runs it). Jobs are finished through the guarded transitions and made old by backdating `finished_at`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { markCancelled } from '../../src/db/cancel.js';
import { markFailed, markRunning, markSucceeded } from '../../src/db/transitions.js';
import type { JobRow } from '../../src/db/schema.js';
import { copyToDeadLetters } from '../../src/messaging/dead-letters.js';
import { runCli, type CliRun } from '../support/cli.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, SUBMIT } from '../support/graphql.js';
import { holdJobRow } from '../support/held-row.js';
import { eventually } from '../support/streams.js';


let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { RETENTION_INTERVAL_MS: '86400000' } });
});
afterAll(async () => {
  await t?.dispose();
});

function longrun(args: string[], token = t.key ?? ''): Promise<CliRun> {
  return runCli(t.url, token, args);
}

const submit = async () => (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
const sql = () => t.app.deps.sql;
/** A job finished in `state`, `days` ago (a FAILED one with its dead-letter copy). */
async function finished(state: 'SUCCEEDED' | 'FAILED' | 'CANCELLED', days: number): Promise<string> {
  const id = await submit();
  if (state === 'CANCELLED') await markCancelled(sql(), { id });
  if (state === 'FAILED') await copyToDeadLetters({ ...t.app.deps }, (await markFailed(sql(), { id, error: 'boom', attemptFailed: false })) as JobRow);
  if (state === 'SUCCEEDED') {
    const run = (await markRunning(sql(), { id, series: 1, leaseMs: 60_000, msgSeq: 1 }))!;
    await markSucceeded(sql(), { id, attempt: run.attempts, series: run.series, lastSeq: run.seq, result: null, progressMessage: null });
  }
  await t.env.sql`update jobs set finished_at = now() - ${days}::int * interval '1 day' where id = ${id}`;
  return id;
}
const exists = async (id: string) => (await gql(t.url, `query($id: ID!) { job(id: $id) { id } }`, { id })).body.data.job !== null;
const PURGE = `mutation($input: PurgeJobsInput!) { purgeJobs(input: $input) { purged deadLetterCopiesRemoved hasMore userErrors { code field } } }`;

describe('purgeJobs', () => {
  it('is for admins only, refuses unfinished states, and goes on in calls of at most `limit` jobs', async () => {
    const alice = await t.createKey('alice');
    const r = await gql(t.url, PURGE, { input: { olderThanSeconds: 0 } }, { authorization: bearer(alice.key) });
    expect(r.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const refused = (await gql(t.url, PURGE, { input: { olderThanSeconds: 60, states: ['FAILED', 'RUNNING'] } })).body.data.purgeJobs;
    expect(refused).toEqual({ purged: 0, deadLetterCopiesRemoved: 0, hasMore: false, userErrors: [{ code: 'INVALID_STATE', field: ['input', 'states'] }] });
    // An empty list of states is no states (as in a jobs filter), not all three: refused, nothing deleted.
    const kept = await finished('SUCCEEDED', 0);
    const empty = (await gql(t.url, PURGE, { input: { olderThanSeconds: 0, states: [] } })).body.data.purgeJobs;
    expect(empty).toEqual({ purged: 0, deadLetterCopiesRemoved: 0, hasMore: false, userErrors: [{ code: 'OUT_OF_RANGE', field: ['input', 'states'] }] });
    expect(await exists(kept)).toBe(true);
    const range = (await gql(t.url, PURGE, { input: { olderThanSeconds: 60, limit: 0 } })).body.data.purgeJobs;
    expect(range.userErrors).toEqual([{ code: 'OUT_OF_RANGE', field: ['input', 'limit'] }]);

    const ids = [await finished('SUCCEEDED', 5), await finished('SUCCEEDED', 5), await finished('SUCCEEDED', 5)];
    const waiting = await submit();
    await t.env.sql`update jobs set created_at = now() - interval '5 days' where id = ${waiting}`;
    const first = (await gql(t.url, PURGE, { input: { olderThanSeconds: 86_400, states: ['SUCCEEDED'], limit: 2 } })).body.data.purgeJobs;
    expect(first).toEqual({ purged: 2, deadLetterCopiesRemoved: 0, hasMore: true, userErrors: [] });
    const second = (await gql(t.url, PURGE, { input: { olderThanSeconds: 86_400, states: ['SUCCEEDED'], limit: 2 } })).body.data.purgeJobs;
    expect(second).toEqual({ purged: 1, deadLetterCopiesRemoved: 0, hasMore: false, userErrors: [] });
    for (const id of ids) expect(await exists(id)).toBe(false);
    expect(await exists(waiting)).toBe(true);
  });
});

describe('longrun purge', () => {
  it('needs --older-than as a duration: exit 2 with the usage', async () => {
    for (const args of [['purge'], ['purge', '--older-than', '30'], ['purge', '--older-than', 'soon']]) {
      const r = await longrun(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^longrun: (purge needs --older-than|--older-than must be a duration)/);
      expect(r.stderr).toContain('usage: longrun');
    }
  });

  it('--dry-run counts, then a purge deletes the old finished jobs of the states asked for, with dead-letter copies', async () => {
    const oldFailed = await finished('FAILED', 40);
    const oldCancelled = await finished('CANCELLED', 40);
    const oldSucceeded = await finished('SUCCEEDED', 40);
    const newFailed = await finished('FAILED', 1);

    const dry = await longrun(['purge', '--older-than', '30d', '--state', 'failed', '--state', 'CANCELLED', '--dry-run']);
    expect(dry).toEqual({ code: 0, stdout: 'would purge 2 jobs\n', stderr: '' });
    expect(await exists(oldFailed)).toBe(true);

    const run = await longrun(['purge', '--older-than', '30d', '--state', 'FAILED', '--state', 'CANCELLED']);
    expect(run).toEqual({ code: 0, stdout: 'purged 2 jobs (1 dead-letter copies removed)\n', stderr: '' });
    expect(await exists(oldFailed)).toBe(false);
    expect(await exists(oldCancelled)).toBe(false);
    expect(await exists(oldSucceeded)).toBe(true); // not a state asked for
    expect(await exists(newFailed)).toBe(true); // not old enough

    const json = await longrun(['purge', '--older-than', '720h', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toEqual({ dryRun: false, purged: 1, deadLetterCopiesRemoved: 0 });
    expect(await exists(oldSucceeded)).toBe(false);
  });

  it('waits for an old finished job another transaction holds, and purges it too', async () => {
    const ids = [await finished('CANCELLED', 50), await finished('CANCELLED', 50), await finished('CANCELLED', 50)];
    // One held (as by a replay or another process's retention batch) while the CLI takes the others.
    const release = await holdJobRow(t.env.sql, ids[2]!);
    const run = longrun(['purge', '--older-than', '45d', '--state', 'CANCELLED']);
    await eventually(async () => !(await exists(ids[0]!)) && !(await exists(ids[1]!)), 'the others purged', 30_000);
    await new Promise((r) => setTimeout(r, 500)); // a few calls that find only the held one
    await release();
    // It used to print `purged 2 jobs` and leave the third.
    expect(await run).toEqual({ code: 0, stdout: 'purged 3 jobs (0 dead-letter copies removed)\n', stderr: '' });
    expect(await exists(ids[2]!)).toBe(false);
  });

  it('refused input exits 2, a key that is not an admin exits 3', async () => {
    const bad = await longrun(['purge', '--older-than', '1d', '--state', 'QUEUED']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toBe('error INVALID_STATE input.states: only finished jobs (SUCCEEDED, FAILED, CANCELLED) can be purged, not QUEUED\n');

    const bob = await t.createKey('bob');
    const forbidden = await longrun(['purge', '--older-than', '1d'], bob.key);
    expect(forbidden).toEqual({ code: 3, stdout: '', stderr: 'longrun: FORBIDDEN: purgeJobs needs an admin key\n' });
  });
});
