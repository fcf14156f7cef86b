/**
 * `longrun retry`: one job by id (with `--timeout-ms`), or every FAILED job that matches a filter, calling
 * `retryJobs` a page (1,000) at a time until nothing more matches; and its usage errors. Spawned as a user
 * runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { runCli, type CliRun } from '../support/cli.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { outage, outageHandler, outageJob, slowHandler, slowJob } from '../support/outage-job.js';
import { holdJobRow } from '../support/held-row.js';
import { eventually } from '../support/receivers.js';


let t: TestApp;
let key: string;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, outageJob, slowJob], handlers: [outageHandler, slowHandler] });
  key = (await t.createKey('olga')).key;
});
afterAll(async () => {
  await t?.dispose();
});

function longrun(args: string[]): Promise<CliRun> {
  return runCli(t.url, key, args);
}

const SUBMIT_MANY = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;
const count = async (where: string) =>
  (await t.env.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from jobs where owner = 'olga' and ${where}`))[0]!.n;

describe('longrun retry', () => {
  it('replays every dead letter that matches, page after page, and prints how many', async () => {
    outage.down = true;
    const from = new Date().toISOString();
    for (const size of [1000, 1]) {
      const inputs = Array.from({ length: size }, (_, i) => ({ type: 'test.outage', payload: { n: i } }));
      const r = (await gql(t.url, SUBMIT_MANY, { inputs }, { authorization: bearer(key) })).body.data.submitJobs;
      expect(r.userErrors).toEqual([]);
    }
    await eventually(async () => (await count(`dead_lettered_at is not null`)) === 1001, 120_000, '1,001 dead letters');
    outage.down = false;

    // More than one call's 1,000: the CLI goes on while the server says more match.
    const r = await longrun(['retry', '--type', 'test.outage', '--failed-after', from, '--dead-lettered']);
    expect(r).toMatchObject({ code: 0, stdout: 'retried 1001 jobs\n', stderr: '' });
    await eventually(async () => (await count(`state = 'SUCCEEDED'`)) === 1001, 120_000, 'all 1,001 succeeded');
    expect(await count(`state = 'FAILED'`)).toBe(0);

    // Nothing more matches now.
    expect(await longrun(['retry', '--all', '--json'])).toMatchObject({ code: 0, stdout: '{"retried":0}\n' });
  });

  it('replays one job with --timeout-ms; a timeout out of range is refused input (exit 2)', async () => {
    outage.down = true;
    const id = (await gql(t.url, SUBMIT, { input: { type: 'test.outage', payload: {} } }, { authorization: bearer(key) })).body.data.submitJob.job.id;
    await waitForJob(t.url, id, (j) => j.state === 'FAILED');
    outage.down = false;

    const refused = await longrun(['retry', id, '--timeout-ms', '50']);
    expect(refused).toMatchObject({ code: 2, stdout: '' });
    expect(refused.stderr).toBe('error OUT_OF_RANGE timeoutMs: timeoutMs must be between 100 and 600000 for a test.outage job\n');

    expect(await longrun(['retry', id, '--timeout-ms', '5000'])).toMatchObject({ code: 0, stdout: `retried ${id} test.outage QUEUED\n` });
    await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
    const [row] = await t.env.sql<{ timeout_ms: number }[]>`select timeout_ms from jobs where id = ${id}`;
    expect(row!.timeout_ms).toBe(5000);
  });

  it('a page refused after pages replayed says how many were replayed before the refusal', async () => {
    outage.down = true;
    const inputs = Array.from({ length: 1000 }, (_, i) => ({ type: 'test.outage', payload: { n: i } }));
    expect((await gql(t.url, SUBMIT_MANY, { inputs }, { authorization: bearer(key) })).body.data.submitJobs.userErrors).toEqual([]);
    await eventually(async () => (await count(`dead_lettered_at is not null`)) === 1000, 120_000, '1,000 dead letters');
    // Failed after them, so on the second page: a test.slow job may have 10 s at most.
    const slow = (await gql(t.url, SUBMIT, { input: { type: 'test.slow', payload: { ms: 1000 }, timeoutMs: 100 } }, { authorization: bearer(key) })).body.data.submitJob.job.id;
    await waitForJob(t.url, slow, (j) => j.state === 'FAILED');
    outage.down = false;

    const r = await longrun(['retry', '--all', '--timeout-ms', '20000']);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    // The first page (the 1,000 test.outage jobs) was replayed: the operator is told, not left to think nothing was.
    expect(r.stderr).toBe('retried 1000 jobs before the refusal\nerror OUT_OF_RANGE input.timeoutMs: timeoutMs must be between 100 and 10000 for a test.slow job\n');
    expect(await count(`state = 'FAILED'`)).toBe(1);
    await eventually(async () => (await count(`type = 'test.outage' and state <> 'SUCCEEDED'`)) === 0, 120_000, 'the replayed ones succeeded');
  });

  it('waits for a matching job another transaction holds, and replays it too', async () => {
    outage.down = true;
    const inputs = Array.from({ length: 3 }, (_, i) => ({ type: 'test.outage', payload: { n: i } }));
    const ids: string[] = (await gql(t.url, SUBMIT_MANY, { inputs }, { authorization: bearer(key) })).body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
    for (const id of ids) await waitForJob(t.url, id, (j) => j.state === 'FAILED');
    outage.down = false;
    // One of them held (as by the dead-letter recorder's write) while the CLI takes the others.
    const release = await holdJobRow(t.env.sql, ids[2]!);
    const run = longrun(['retry', '--type', 'test.outage']);
    await eventually(async () => (await count(`id in ('${ids[0]}', '${ids[1]}') and state <> 'FAILED'`)) === 2, 30_000, 'the others replayed');
    await release();
    // It used to print `retried 2 jobs` and leave the third FAILED.
    expect(await run).toMatchObject({ code: 0, stdout: 'retried 3 jobs\n', stderr: '' });
    await eventually(async () => (await count(`id in ('${ids.join("', '")}') and state = 'SUCCEEDED'`)) === 3, 30_000, 'all three succeeded');
  });

  it('says what is wrong with its usage (exit 2)', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const cases: [string[], string][] = [
      [['retry'], 'longrun: retry needs <id>, or which FAILED jobs: --type, --failed-after, --failed-before, --dead-lettered, or --all'],
      [['retry', id, '--type', 'test.outage'], 'longrun: retry <id> replays that job alone: --type does not apply'],
      [['retry', '--failed-after', 'yesterday'], 'longrun: --failed-after must be an ISO 8601 date-time, e.g. --failed-after 2026-12-01T10:00:00Z'],
      [['retry', '--all', '--timeout-ms', '1.5'], 'longrun: --timeout-ms must be a whole number in decimal digits'],
      [['retry', id, id], 'longrun: retry takes one argument; left over:'],
    ];
    for (const [args, line] of cases) {
      const r = await longrun(args);
      expect(r.code).toBe(2);
      expect(r.stderr.split('\n')[0]).toContain(line);
    }
  });
});
