/**
 * `longrun schedule <name> <type> --cron EXPR …` creates or replaces a schedule and says which, with its next
 * run (or that it is paused); `longrun schedules` lists them, a tab-separated row each in a pipe; `longrun
 * unschedule <name>` deletes one, `pause-schedule <name>` pauses one and `resume-schedule <name>` resumes it,
 * with its next run. A cron the server cannot read and an unknown name are refused input (exit 2, the server's
 * message); a schedule without --cron is bad usage (exit 2, nothing sent). `--owner` acts on another owner's
 * schedules, with an admin key. `--start-within DURATION` gives its runs a start window, listed last (in ms).
 */
import { expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { useAppWithWorkerSwitch } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

const app = useAppWithWorkerSwitch(); // its workers are never started: a schedule's job stays QUEUED

function longrun(...args: string[]): Promise<CliRun> {
  return runCli(app.t.url, app.t.key ?? '', args);
}
const FIELDS = 'name type payload cron timezone maxAttempts timeoutMs startWithinMs paused nextRunAt lastRunAt runs lastJob { id state }';
const schedulesNow = async () => (await gql(app.t.url, `query { schedules { ${FIELDS} } }`)).body.data.schedules as any[];

/** Next new year's midnight in Berlin, in UTC: when `@yearly` in Europe/Berlin next runs. */
const nextBerlinNewYear = () => {
  const at = (year: number) => Date.parse(`${year}-12-31T23:00:00.000Z`);
  const year = new Date().getUTCFullYear();
  return new Date(Date.now() < at(year) ? at(year) : at(year + 1)).toISOString();
};

it('schedule creates one and prints its next run; the same name again replaces it, every option left out back to its default', async () => {
  const made = await longrun('schedule', 'report', 'demo.sleep', '--cron', '@yearly', '--timezone', 'Europe/Berlin', '--payload', '{"ms": 5}', '--max-attempts', '2', '--timeout-ms', '60000');
  expect(made).toEqual({ code: 0, stdout: `created schedule report next run ${nextBerlinNewYear()}\n`, stderr: '' });
  expect((await schedulesNow()).find((s) => s.name === 'report')).toMatchObject({
    type: 'demo.sleep',
    payload: { ms: 5 },
    cron: '@yearly',
    timezone: 'Europe/Berlin',
    maxAttempts: 2,
    timeoutMs: 60000,
    paused: false,
    nextRunAt: nextBerlinNewYear(),
  });

  const replaced = await longrun('schedule', 'report', 'demo.noop', '--cron', '0 6 * * 1-5', '--paused');
  expect(replaced).toEqual({ code: 0, stdout: 'replaced schedule report paused\n', stderr: '' });
  const json = await longrun('schedule', 'report', 'demo.noop', '--cron', '0 6 * * 1-5', '--paused', '--json');
  expect(json.code).toBe(0);
  const stored = (await schedulesNow()).find((s) => s.name === 'report');
  expect(stored).toMatchObject({ type: 'demo.noop', payload: {}, cron: '0 6 * * 1-5', timezone: 'UTC', maxAttempts: null, timeoutMs: null, paused: true, nextRunAt: null });
  expect(JSON.parse(json.stdout)).toMatchObject(stored);

  // A name with a line break stays on its line, escaped.
  const odd = await longrun('schedule', 'two\nlines', 'demo.noop', '--cron', '@yearly');
  expect(odd.stdout).toMatch(/^created schedule two\\nlines next run \S+\n$/);
  expect((await longrun('unschedule', 'two\nlines')).code).toBe(0);
  expect((await longrun('unschedule', 'report')).code).toBe(0);
});

it('schedules lists them in a pipe as tab-separated rows, "-" for what a schedule has not got; --json as the API answers', async () => {
  expect((await longrun('schedule', 'idle', 'demo.noop', '--cron', '@yearly', '--paused')).code).toBe(0);
  expect((await longrun('schedule', 'weekly', 'demo.noop', '--cron', '0 7 * * 1', '--timezone', 'Europe/Berlin')).code).toBe(0);
  // One run of `weekly` now, as if it were due: its job stays QUEUED (no workers).
  await app.t.env.sql`update schedules set next_run_at = now() - interval '1 minute' where name = 'weekly'`;
  const weekly = await eventually(async () => (await schedulesNow()).find((s) => s.name === 'weekly' && s.runs === 1), 30_000, 'a run of weekly');

  const r = await longrun('schedules');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  expect(r.stdout.split('\n')).toEqual([
    'idle\tdemo.noop\t@yearly\tUTC\t-\t-\t0\t-\t-\tpaused\t-',
    `weekly\tdemo.noop\t0 7 * * 1\tEurope/Berlin\t${weekly.nextRunAt}\t${weekly.lastRunAt}\t1\t${weekly.lastJob.id}\tQUEUED\t-\t-`,
    '',
  ]);
  expect(weekly.lastJob.state).toBe('QUEUED');

  const json = await longrun('schedules', '--json');
  expect(json.code).toBe(0);
  expect(JSON.parse(json.stdout)).toMatchObject(await schedulesNow());
});

it('schedule --start-within gives its runs a start window, shown last by schedules; one past 24d is bad usage, under 1s refused', async () => {
  expect((await longrun('schedule', 'windowed', 'demo.noop', '--cron', '@yearly', '--start-within', '2h')).code).toBe(0);
  expect((await schedulesNow()).find((s) => s.name === 'windowed')).toMatchObject({ startWithinMs: 7_200_000 });
  const row = (await longrun('schedules')).stdout.split('\n').find((line) => line.startsWith('windowed\t'));
  expect(row).toMatch(/^windowed\tdemo\.noop\t@yearly\tUTC\t\S+\t-\t0\t-\t-\t-\t7200000$/);
  const json = await longrun('schedule', 'windowed', 'demo.noop', '--cron', '@yearly', '--start-within', '90s', '--json');
  expect(JSON.parse(json.stdout)).toMatchObject({ name: 'windowed', startWithinMs: 90_000 });

  const tooLong = await longrun('schedule', 'windowed', 'demo.noop', '--cron', '@yearly', '--start-within', '25d');
  expect(tooLong).toMatchObject({ code: 2, stdout: '' });
  expect(tooLong.stderr).toMatch(/^longrun: --start-within must be at most 24d \(2147483647 ms\)\n/);
  expect((await longrun('schedule', 'windowed', 'demo.noop', '--cron', '@yearly', '--start-within', 'soon')).stderr).toMatch(
    /^longrun: --start-within must be a duration such as 30d, 12h, 15m or 90s/,
  );
  expect(await longrun('schedule', 'windowed', 'demo.noop', '--cron', '@yearly', '--start-within', '0s')).toEqual({
    code: 2,
    stdout: '',
    stderr: 'error OUT_OF_RANGE input.startWithinMs: startWithinMs must be between 1000 and 2147483647\n',
  });
  expect((await schedulesNow()).find((s) => s.name === 'windowed')).toMatchObject({ startWithinMs: 90_000 });
  // Left out, as every option, it is back to its default: none.
  expect((await longrun('schedule', 'windowed', 'demo.noop', '--cron', '@yearly')).code).toBe(0);
  expect((await schedulesNow()).find((s) => s.name === 'windowed')).toMatchObject({ startWithinMs: null });
  expect((await longrun('unschedule', 'windowed')).code).toBe(0);
});

it('unschedule deletes one and prints how many runs it made; it is no longer listed', async () => {
  expect((await longrun('schedule', 'gone', 'demo.noop', '--cron', '@yearly')).code).toBe(0);
  await app.t.env.sql`update schedules set next_run_at = now() - interval '1 minute' where name = 'gone'`;
  await eventually(async () => (await schedulesNow()).find((s) => s.name === 'gone' && s.runs === 1), 30_000, 'a run of gone');
  expect(await longrun('unschedule', 'gone')).toEqual({ code: 0, stdout: 'deleted schedule gone (1 runs)\n', stderr: '' });
  expect((await schedulesNow()).some((s) => s.name === 'gone')).toBe(false);
});

it('pause-schedule pauses one, as schedules then shows; resume-schedule prints its next run; --json prints the schedule', async () => {
  // Its row of `longrun schedules` (the other tests' schedules are listed too).
  const nightlyRow = async () => (await longrun('schedules')).stdout.split('\n').find((line) => line.startsWith('nightly\t'));
  expect((await longrun('schedule', 'nightly', 'demo.noop', '--cron', '@yearly', '--timezone', 'Europe/Berlin')).code).toBe(0);
  expect(await longrun('pause-schedule', 'nightly')).toEqual({ code: 0, stdout: 'paused schedule nightly\n', stderr: '' });
  // Paused, not replaced: its cron and time zone stay, its next run is gone.
  expect(await nightlyRow()).toBe('nightly\tdemo.noop\t@yearly\tEurope/Berlin\t-\t-\t0\t-\t-\tpaused\t-');

  expect(await longrun('resume-schedule', 'nightly')).toEqual({ code: 0, stdout: `resumed schedule nightly next run ${nextBerlinNewYear()}\n`, stderr: '' });
  expect(await nightlyRow()).toBe(`nightly\tdemo.noop\t@yearly\tEurope/Berlin\t${nextBerlinNewYear()}\t-\t0\t-\t-\t-\t-`);

  const paused = await longrun('pause-schedule', 'nightly', '--json');
  expect(paused.code).toBe(0);
  expect(JSON.parse(paused.stdout)).toMatchObject({ ...(await schedulesNow()).find((s) => s.name === 'nightly'), paused: true, nextRunAt: null });
  const resumed = await longrun('resume-schedule', 'nightly', '--json');
  expect(resumed.code).toBe(0);
  expect(JSON.parse(resumed.stdout)).toMatchObject({ ...(await schedulesNow()).find((s) => s.name === 'nightly'), paused: false, nextRunAt: nextBerlinNewYear() });
  expect((await longrun('unschedule', 'nightly')).code).toBe(0);
});

it('refuses a cron it cannot read and an unknown name as refused input (exit 2, the server’s message), storing nothing', async () => {
  const bad = await longrun('schedule', 'bad', 'demo.noop', '--cron', '* * * *');
  expect(bad).toEqual({
    code: 2,
    stdout: '',
    stderr: 'error INVALID_SCHEDULE input.cron: cron must have five fields (minute hour day-of-month month day-of-week), six (seconds first), or be an alias such as @daily\n',
  });
  const never = await longrun('schedule', 'bad', 'demo.noop', '--cron', '0 0 30 2 *');
  expect(never.code).toBe(2);
  expect(never.stderr).toMatch(/^error INVALID_SCHEDULE input\.cron: /);
  expect((await schedulesNow()).some((s) => s.name === 'bad')).toBe(false);

  for (const command of ['unschedule', 'pause-schedule', 'resume-schedule']) {
    const unknown = await longrun(command, 'nope');
    expect(unknown, command).toEqual({ code: 2, stdout: '', stderr: 'error UNKNOWN_SCHEDULE name: you have no schedule "nope"\n' });
  }
});

it('refuses a schedule without --cron, or without its type, as bad usage (exit 2, nothing sent)', async () => {
  const noCron = await longrun('schedule', 'x', 'demo.noop');
  expect(noCron).toMatchObject({ code: 2, stdout: '' });
  expect(noCron.stderr).toMatch(/^longrun: schedule needs --cron, e\.g\. --cron '0 6 \* \* 1-5'\n\nusage: longrun/);
  const noType = await longrun('schedule', 'x', '--cron', '@daily');
  expect(noType.code).toBe(2);
  expect(noType.stderr).toMatch(/^longrun: missing <type>\n/);
  const twice = await longrun('schedule', 'x', 'demo.noop', '--cron', '@daily', '--cron', '@hourly');
  expect(twice.code).toBe(2);
  expect(twice.stderr).toMatch(/^longrun: --cron given more than once: give each once\n/);
  expect((await schedulesNow()).some((s) => s.name === 'x')).toBe(false);
});

it("--owner lists, pauses, resumes and deletes another owner's schedule with an admin key; another key is FORBIDDEN (exit 3)", async () => {
  const other = (await app.t.createKey('other')).key;
  const asOther = (...args: string[]) => runCli(app.t.url, other, args);
  expect((await asOther('schedule', 'theirs', 'demo.noop', '--cron', '@daily')).code).toBe(0);

  const listed = await longrun('schedules', '--owner', 'other');
  expect(listed.code).toBe(0);
  expect(listed.stdout.split('\n')[0]).toMatch(/^theirs\tdemo\.noop\t@daily\tUTC\t/);
  expect(await longrun('pause-schedule', 'theirs', '--owner', 'other')).toEqual({ code: 0, stdout: 'paused schedule theirs\n', stderr: '' });
  expect((await asOther('schedules')).stdout).toMatch(/\tpaused\t-\n$/);
  expect((await longrun('resume-schedule', 'theirs', '--owner', 'other')).stdout).toMatch(/^resumed schedule theirs next run \S+\n$/);

  const forbidden = await asOther('schedules', '--owner', 'test');
  expect(forbidden).toEqual({ code: 3, stdout: '', stderr: "longrun: FORBIDDEN: another owner's schedules need an admin key\n" });
  expect(await longrun('unschedule', 'theirs', '--owner', 'other')).toEqual({ code: 0, stdout: 'deleted schedule theirs (0 runs)\n', stderr: '' });
  expect((await asOther('schedules')).stdout).toBe('');
});

it('run-schedule submits the schedule\'s job now and prints it as submit does; the schedule keeps its next run', async () => {
  expect((await longrun('schedule', 'now', 'demo.noop', '--cron', '@yearly')).code).toBe(0);
  const next = (await schedulesNow()).find((s) => s.name === 'now')!.nextRunAt;
  const ran = await longrun('run-schedule', 'now');
  expect(ran).toMatchObject({ code: 0, stderr: '' });
  expect(ran.stdout).toMatch(/^submitted [0-9a-f-]{36} demo\.noop QUEUED\n$/);
  const after = (await schedulesNow()).find((s) => s.name === 'now')!;
  expect(after).toMatchObject({ runs: 1, nextRunAt: next, lastJob: { id: ran.stdout.split(' ')[1], state: 'QUEUED' } });
  expect(await longrun('run-schedule', 'nope')).toEqual({ code: 2, stdout: '', stderr: 'error UNKNOWN_SCHEDULE name: you have no schedule "nope"\n' });
  expect((await longrun('unschedule', 'now')).code).toBe(0);
});
