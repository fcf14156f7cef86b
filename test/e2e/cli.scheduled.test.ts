/**
 * `longrun submit --run-at ISO` / `--delay DURATION`: the job is scheduled (its runAt set, QUEUED until then);
 * both together, or a bad value, are bad usage (exit 2, nothing sent); one too far ahead is refused input
 * (exit 2). `show` prints its runAt and `stats` its type's scheduled count (the last column).
 */
import { expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { countRows, useAppWithWorkerSwitch } from '../support/app.js';
import { gql } from '../support/graphql.js';

const app = useAppWithWorkerSwitch(); // its workers are never started: scheduled jobs stay QUEUED anyway

function longrun(...args: string[]): Promise<CliRun> {
  return longrunIn({}, ...args);
}
function longrunIn(extraEnv: Record<string, string>, ...args: string[]): Promise<CliRun> {
  return runCli(app.t.url, app.t.key ?? '', args, extraEnv);
}
const runAtOf = async (id: string) => (await gql(app.t.url, 'query($id: ID!) { job(id: $id) { state runAt } }', { id })).body.data.job;

it('submit --run-at schedules the job at that instant and says when it runs (--json: its runAt); show prints it; stats counts it', async () => {
  const runAt = new Date(Date.now() + 3_600_000).toISOString();
  const r = await longrun('submit', 'demo.noop', '--run-at', runAt);
  expect(r.code).toBe(0);
  const id = r.stdout.split(' ')[1]!;
  expect(r.stdout).toBe(`submitted ${id} demo.noop QUEUED run at ${runAt}\n`);
  expect(await runAtOf(id)).toEqual({ state: 'QUEUED', runAt });
  const json = JSON.parse((await longrun('submit', 'demo.noop', '--delay', '1h', '--json')).stdout);
  expect(json).toMatchObject({ type: 'demo.noop', state: 'QUEUED', runAt: (await runAtOf(json.id)).runAt });
  expect(json.runAt).not.toBeNull();
  // A job to run at once says nothing more.
  expect((await longrun('submit', 'demo.noop')).stdout).toMatch(/^submitted \S+ demo\.noop QUEUED\n$/);

  const shown = await longrun('show', id);
  expect(shown.stdout.split('\n')).toContain(`run at\t${runAt}`);
  const stats = await longrun('stats');
  const noop = stats.stdout.split('\n').find((l) => l.startsWith('demo.noop\t'))!.split('\t');
  expect(noop).toHaveLength(11);
  expect(noop[8]).toBe('2');
});

it('reads --run-at without an offset in local time, a date alone as its local midnight', async () => {
  // Tokyo is UTC+9 all year: its midnight is 15:00 UTC the day before.
  const day = new Date(Date.now() + 10 * 86_400_000).toISOString().slice(0, 10);
  for (const given of [day, `${day}T00:00`]) {
    const r = await longrunIn({ TZ: 'Asia/Tokyo' }, 'submit', 'demo.noop', '--run-at', given);
    expect(r.code).toBe(0);
    expect((await runAtOf(r.stdout.split(' ')[1]!)).runAt).toBe(new Date(Date.parse(`${day}T00:00:00+09:00`)).toISOString());
  }
});

it('submit --delay schedules the job that long from now', async () => {
  const before = Date.now();
  const r = await longrun('submit', 'demo.noop', '--delay', '2h');
  const after = Date.now();
  expect(r.code).toBe(0);
  const job = await runAtOf(r.stdout.split(' ')[1]!);
  expect(job.state).toBe('QUEUED');
  expect(Date.parse(job.runAt)).toBeGreaterThanOrEqual(before + 7_200_000 - 1);
  expect(Date.parse(job.runAt)).toBeLessThanOrEqual(after + 7_200_000);
});

it('refuses --run-at with --delay, a bad value (bad usage) and a runAt too far ahead (refused input), all exit 2', async () => {
  const jobs = await countRows(app.t.env.sql, 'jobs');
  const both = await longrun('submit', 'demo.noop', '--run-at', new Date(Date.now() + 60_000).toISOString(), '--delay', '1m');
  expect(both).toMatchObject({ code: 2, stdout: '' });
  expect(both.stderr).toMatch(/^longrun: --run-at and --delay both say when the job runs: give one/);
  const badDelay = await longrun('submit', 'demo.noop', '--delay', 'soon');
  expect(badDelay.code).toBe(2);
  expect(badDelay.stderr).toMatch(/^longrun: --delay must be a duration such as 30d/);
  const badAt = await longrun('submit', 'demo.noop', '--run-at', 'tomorrow');
  expect(badAt.code).toBe(2);
  expect(badAt.stderr).toMatch(/^longrun: --run-at must be an ISO 8601 date-time/);
  const far = await longrun('submit', 'demo.noop', '--delay', '400d');
  expect(far.code).toBe(2);
  expect(far.stderr).toBe('error OUT_OF_RANGE input.runAt: runAt must be at most 366 days ahead\n');
  expect(await countRows(app.t.env.sql, 'jobs')).toBe(jobs);
});

it('refuses a date that is not on the calendar (30 February, the 31st of a 30-day month) as bad usage, not the days after', async () => {
  const jobs = await countRows(app.t.env.sql, 'jobs');
  for (const given of ['2027-02-30', '2027-04-31T10:00:00Z', '2027-02-29T00:00:00+02:00']) {
    const r = await longrun('submit', 'demo.noop', '--run-at', given);
    expect(r).toMatchObject({ code: 2, stdout: '' });
    expect(r.stderr).toMatch(/^longrun: --run-at must be an ISO 8601 date-time/);
  }
  expect(await countRows(app.t.env.sql, 'jobs')).toBe(jobs);
  // A leap year's 29 February is on the calendar, and a month's last day (both past: the jobs run at once).
  for (const given of ['2024-02-29', '2025-04-30T10:00:00Z']) expect((await longrun('submit', 'demo.noop', '--run-at', given)).code).toBe(0);
});
