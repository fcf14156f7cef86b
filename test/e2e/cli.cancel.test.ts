/**
 * `longrun cancel` without an id: every job not finished that matches (`--type`, `--state`, or `--all`),
 * calling `cancelJobs` a page (1,000) at a time until nothing more matches; and its usage errors. Spawned as
 * a user runs it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql } from '../support/graphql.js';

const LATER = new Date(Date.now() + 3_600_000).toISOString();

let t: TestApp;
let key: string;
beforeAll(async () => {
  t = await startTestApp();
  key = (await t.createKey('olga')).key;
});
afterAll(async () => {
  await t?.dispose();
});

function longrun(args: string[]): Promise<CliRun> {
  return runCli(t.url, key, args);
}

const SUBMIT_MANY = `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;
async function submitWaiting(count: number, type: string, payload: Record<string, unknown>) {
  const inputs = Array.from({ length: count }, () => ({ type, payload, runAt: LATER }));
  const r = (await gql(t.url, SUBMIT_MANY, { inputs }, { authorization: bearer(key) })).body.data.submitJobs;
  expect(r.userErrors).toEqual([]);
}
const count = async (where: string) =>
  (await t.env.sql.unsafe<{ n: number }[]>(`select count(*)::int as n from jobs where owner = 'olga' and ${where}`))[0]!.n;

describe('longrun cancel', () => {
  it('cancels every job that matches, page after page, and prints how many', async () => {
    await submitWaiting(1000, 'demo.noop', {});
    await submitWaiting(1, 'demo.noop', {});
    await submitWaiting(2, 'demo.sleep', { ms: 0 });

    // More than one call's 1,000: the CLI goes on while the server says more match.
    const r = await longrun(['cancel', '--type', 'demo.noop', '--state', 'QUEUED']);
    expect(r).toMatchObject({ code: 0, stdout: 'cancelled 1001 jobs, asked the workers of 0 running ones to stop them\n', stderr: '' });
    expect(await count(`type = 'demo.noop' and state = 'CANCELLED'`)).toBe(1001);
    expect(await count(`type = 'demo.sleep' and state = 'QUEUED'`)).toBe(2);

    expect(await longrun(['cancel', '--all', '--json'])).toMatchObject({ code: 0, stdout: '{"cancelled":2,"cancelRequested":0}\n' });
    expect(await count(`state <> 'CANCELLED'`)).toBe(0);
  });

  it.each([
    [['cancel'], 'cancel needs <id>, or which jobs: --type, --state, or --all'],
    [['cancel', '00000000-0000-4000-8000-000000000000', '--all'], 'cancel <id> cancels that job alone: --all does not apply'],
  ])('%j is bad usage (exit 2)', async (args, message) => {
    const r = await longrun(args);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(message);
  });

  it('says why the server refused a filter (exit 2) and cancels nothing', async () => {
    await submitWaiting(1, 'demo.noop', {});
    const r = await longrun(['cancel', '--state', 'QUEUED', '--state', 'SUCCEEDED']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('error OUT_OF_RANGE input.states.1: a SUCCEEDED job cannot be cancelled');
    expect(await count(`state = 'QUEUED'`)).toBe(1);
  });
});
