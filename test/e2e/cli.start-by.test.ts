/**
 * `longrun submit --start-by ISO|DURATION`: the job gets that startBy (a duration: that long from now); a value
 * neither is bad usage (exit 2, nothing sent); one in the past is refused input (exit 2, OUT_OF_RANGE).
 */
import { expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { countRows, useAppWithWorkerSwitch } from '../support/app.js';
import { gql } from '../support/graphql.js';

const app = useAppWithWorkerSwitch(); // its workers are never started: the jobs stay QUEUED (for an hour at least)

const longrun = (...args: string[]): Promise<CliRun> => runCli(app.t.url, app.t.key ?? '', args);
const startByOf = async (id: string) => (await gql(app.t.url, 'query($id: ID!) { job(id: $id) { state startBy } }', { id })).body.data.job;

it('submit --start-by ISO gives the job that startBy; --start-by 10m ten minutes from now', async () => {
  const startBy = new Date(Date.now() + 3_600_000).toISOString();
  const r = await longrun('submit', 'demo.noop', '--start-by', startBy);
  expect(r.code).toBe(0);
  expect(await startByOf(r.stdout.split(' ')[1]!)).toEqual({ state: 'QUEUED', startBy });
  expect((await longrun('show', r.stdout.split(' ')[1]!)).stdout.split('\n')).toContain(`start by\t${startBy}`);

  const before = Date.now();
  const d = await longrun('submit', 'demo.noop', '--start-by', '10m');
  const after = Date.now();
  expect(d.code).toBe(0);
  const job = await startByOf(d.stdout.split(' ')[1]!);
  expect(Date.parse(job.startBy)).toBeGreaterThanOrEqual(before + 600_000 - 1);
  expect(Date.parse(job.startBy)).toBeLessThanOrEqual(after + 600_000);
});

it('refuses a --start-by that is neither a date-time nor a duration (bad usage), or in the past (refused input): nothing written', async () => {
  const before = await countRows(app.t.env.sql, 'jobs');
  const bad = await longrun('submit', 'demo.noop', '--start-by', 'soon');
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain('--start-by must be an ISO 8601 date-time');
  const past = await longrun('submit', 'demo.noop', '--start-by', '2000-01-01T00:00:00Z');
  expect(past.code).toBe(2);
  expect(past.stderr).toContain('startBy must be in the future');
  expect(await countRows(app.t.env.sql, 'jobs')).toBe(before);
});
