/**
 * Schedules (recurring jobs): `upsertSchedule` stores one, and each time its cron names, one job is submitted
 * and run, with two API processes on the same database as with one; a run missed while none ran makes one
 * job; a paused schedule makes none; `deleteSchedule` stops it; bad input is refused with nothing stored; a
 * schedule is its owner's alone (an admin key may name another owner), at most 100 of them.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { bearer, gql } from '../support/graphql.js';
import { runDueSchedules } from '../../src/jobs/schedules.js';
import { createClient } from '../../sdk/index.js';

const UPSERT = /* GraphQL */ `
  mutation ($input: ScheduleInput!) {
    upsertSchedule(input: $input) {
      created
      schedule { name type payload cron timezone maxAttempts timeoutMs paused nextRunAt lastRunAt runs lastJob { id state } }
      userErrors { code field message }
    }
  }`;
const DELETE = /* GraphQL */ `
  mutation ($name: String!) { deleteSchedule(name: $name) { schedule { name runs } userErrors { code field message } } }`;
const PAUSE = /* GraphQL */ `
  mutation ($name: String!) { pauseSchedule(name: $name) { schedule { name paused nextRunAt } userErrors { code field message } } }`;
const RESUME = /* GraphQL */ `
  mutation ($name: String!) { resumeSchedule(name: $name) { schedule { name paused nextRunAt } userErrors { code field message } } }`;
const LIST = /* GraphQL */ `
  query { schedules { name runs nextRunAt lastRunAt paused lastJob { id state idempotencyKey } } }`;

let env: TestEnv;
let a: TestApp;
let b: TestApp;
beforeAll(async () => {
  env = await createTestEnv();
  a = await startTestApp({ env }); // with workers
  b = await startTestApp({ env, handlers: null }); // a second API process: its scheduler runs too
});
afterAll(async () => {
  await b?.dispose();
  await a?.dispose();
  await env?.dispose();
});

/** The operation's data; its errors thrown. */
async function dataOf(url: string, query: string, variables: Record<string, unknown>, headers?: Record<string, string>): Promise<any> {
  const { body } = await gql(url, query, variables, headers);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
const upsert = async (input: Record<string, unknown>, url = a.url, headers?: Record<string, string>) => (await dataOf(url, UPSERT, { input }, headers)).upsertSchedule;
const remove = async (name: string, url = a.url, headers?: Record<string, string>) => (await dataOf(url, DELETE, { name }, headers)).deleteSchedule;
const list = async (url = a.url, headers?: Record<string, string>) => (await dataOf(url, LIST, {}, headers)).schedules as any[];
const jobsOf = (name: string) =>
  env.sql<{ id: string; state: string; key: string; createdAt: Date; owner: string }[]>`
    select id, state, idempotency_key as key, created_at as "createdAt", owner from jobs
    where idempotency_key like ${`schedule:${name}:%`} order by idempotency_key`;
async function until<T>(what: string, check: () => Promise<T | false | undefined | null>, timeoutMs = 30_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 100))) {
    const v = await check();
    if (v) return v;
  }
  throw new Error(`timed out waiting for: ${what}`);
}
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('submits one job per run, each run once with two API processes, run to SUCCEEDED; a deleted schedule submits no more', async () => {
  const r = await upsert({ name: 'tick', type: 'demo.noop', cron: '* * * * * *' });
  expect(r.userErrors).toEqual([]);
  expect(r.created).toBe(true);
  expect(r.schedule).toMatchObject({ name: 'tick', type: 'demo.noop', payload: {}, cron: '* * * * * *', timezone: 'UTC', maxAttempts: null, paused: false, runs: 0, lastRunAt: null, lastJob: null });
  expect(Date.parse(r.schedule.nextRunAt) - Date.now()).toBeLessThanOrEqual(1000);

  await until('four runs', async () => (await list()).find((s) => s.name === 'tick' && s.runs >= 4));
  const deleted = await remove('tick', b.url);
  expect(deleted.userErrors).toEqual([]);
  const runs: number = deleted.schedule.runs;

  const jobs = await until('every job of the schedule to succeed', async () => {
    const js = await jobsOf('tick');
    return js.length >= runs && js.every((j) => j.state === 'SUCCEEDED') && js;
  });
  // One job per run, for consecutive seconds: none twice (two schedulers), none skipped.
  expect(jobs).toHaveLength(runs);
  const runTimes = jobs.map((j) => Date.parse(j.key.slice('schedule:tick:'.length)));
  runTimes.forEach((t, i) => {
    expect(t % 1000).toBe(0);
    if (i) expect(t - runTimes[i - 1]!).toBe(1000);
    expect(jobs[i]!.createdAt.getTime()).toBeGreaterThanOrEqual(t - 50); // not before its run (50 ms: clocks)
  });
  expect(new Set(jobs.map((j) => j.owner))).toEqual(new Set(['test']));

  await sleep(1500);
  expect(await jobsOf('tick')).toHaveLength(runs);
  expect((await list()).some((s) => s.name === 'tick')).toBe(false);
});

it('makes one job per due schedule when both API processes run their due schedules at once', async () => {
  for (let i = 0; i < 40; i++) expect((await upsert({ name: `race${i}`, type: 'demo.noop', cron: '@yearly' })).userErrors).toEqual([]);
  await env.sql`update schedules set next_run_at = now() - interval '1 minute' where name like 'race%'`;
  // The schedulers' own passes besides: six passes at once, three in each process.
  const deps = [a.app.deps, b.app.deps, a.app.deps, b.app.deps, a.app.deps, b.app.deps];
  const moved = await Promise.all(deps.map((d) => runDueSchedules(d)));
  expect(moved.reduce((x, y) => x + y, 0)).toBeLessThanOrEqual(40);
  const rows = await env.sql<{ runs: number; jobs: number }[]>`
    select s.runs::int, (select count(*)::int from jobs j where j.idempotency_key like 'schedule:' || s.name || ':%') as jobs
    from schedules s where s.name like 'race%'`;
  expect(rows).toHaveLength(40);
  expect(rows.every((r) => r.runs === 1 && r.jobs === 1)).toBe(true);
  await env.sql`delete from schedules where name like 'race%'`;
});

it('makes one job for runs missed while no scheduler ran, and counts the next from now', async () => {
  const r = await upsert({ name: 'hourly', type: 'demo.sleep', payload: { ms: 1 }, cron: '0 * * * *', timezone: 'Europe/Berlin', maxAttempts: 2 });
  expect(r.userErrors).toEqual([]);
  // As if every API process had been down for five hours.
  await env.sql`update schedules set next_run_at = date_trunc('hour', now()) - interval '5 hours' where name = 'hourly'`;
  const s = await until('the missed runs', async () => (await list()).find((x) => x.name === 'hourly' && x.lastJob?.state === 'SUCCEEDED'));
  await sleep(1000); // a second pass or two
  const jobs = await jobsOf('hourly');
  expect(jobs).toHaveLength(1);
  expect(s.runs).toBe(1);
  expect(s.lastJob.id).toBe(jobs[0]!.id);
  expect(s.lastJob.idempotencyKey).toBe(`schedule:hourly:${s.lastRunAt}`);
  const hour = 3_600_000;
  expect(Date.parse(s.lastRunAt) % hour).toBe(0);
  expect(Date.now() - Date.parse(s.lastRunAt)).toBeGreaterThan(4 * hour);
  expect(Date.parse(s.nextRunAt) - Date.now()).toBeGreaterThan(0);
  expect(Date.parse(s.nextRunAt) - Date.now()).toBeLessThanOrEqual(hour);
  const [job] = await env.sql<{ maxAttempts: number }[]>`select max_attempts as "maxAttempts" from jobs where id = ${jobs[0]!.id}`;
  expect(job!.maxAttempts).toBe(2);
});

it('submits nothing while paused (upsertSchedule paused: true, or pauseSchedule); resumed, it runs from then', async () => {
  const paused = await upsert({ name: 'later', type: 'demo.noop', cron: '* * * * * *', paused: true });
  expect(paused.schedule).toMatchObject({ paused: true, nextRunAt: null });
  await sleep(2500);
  expect(await jobsOf('later')).toHaveLength(0);
  const resumed = await dataOf(a.url, RESUME, { name: 'later' });
  expect(resumed.resumeSchedule).toMatchObject({ userErrors: [], schedule: { paused: false } });
  expect(Date.parse(resumed.resumeSchedule.schedule.nextRunAt) - Date.now()).toBeLessThanOrEqual(1000);
  await until('a run after the resume', async () => (await jobsOf('later')).length > 0);

  const pausedAgain = (await dataOf(b.url, PAUSE, { name: 'later' })).pauseSchedule;
  expect(pausedAgain).toMatchObject({ userErrors: [], schedule: { paused: true, nextRunAt: null } });
  // The pause waited for a pass that held the schedule: every job made before it is committed.
  const made = (await jobsOf('later')).length;
  await sleep(2500);
  expect(await jobsOf('later')).toHaveLength(made);
  // Pausing it again changes nothing; an unknown name is refused.
  expect((await dataOf(a.url, PAUSE, { name: 'later' })).pauseSchedule).toMatchObject({ userErrors: [], schedule: { paused: true } });
  expect((await dataOf(a.url, RESUME, { name: 'nope' })).resumeSchedule).toEqual({
    schedule: null,
    userErrors: [{ code: 'UNKNOWN_SCHEDULE', field: ['name'], message: 'you have no schedule "nope"' }],
  });
  expect((await remove('later')).userErrors).toEqual([]);
});

it('runs a schedule now on request, paused or not, keeping its next run; an unknown name is refused', async () => {
  const made = await upsert({ name: 'on-demand', type: 'demo.sleep', payload: { ms: 1 }, cron: '@yearly', paused: true });
  expect(made.userErrors).toEqual([]);
  const RUN = `mutation ($name: String!) { runSchedule(name: $name) {
    job { id state idempotencyKey } schedule { paused nextRunAt runs lastRunAt lastJob { id } } userErrors { code field message } } }`;
  const before = await env.sql<{ next: Date }[]>`select next_run_at as next from schedules where name = 'on-demand'`;
  const r = (await dataOf(a.url, RUN, { name: 'on-demand' })).runSchedule;
  expect(r.userErrors).toEqual([]);
  expect(r.job.state).toBe('QUEUED');
  expect(r.job.idempotencyKey).toBe(`schedule:on-demand:${r.schedule.lastRunAt}`);
  expect(r.schedule).toMatchObject({ paused: true, nextRunAt: null, runs: 1, lastJob: { id: r.job.id } });
  const after = await env.sql<{ next: Date }[]>`select next_run_at as next from schedules where name = 'on-demand'`;
  expect(after).toEqual(before);
  await until('the job to succeed', async () => (await env.sql`select 1 from jobs where id = ${r.job.id} and state = 'SUCCEEDED'`).length > 0);
  // Through the SDK too; each run is a job of its own.
  const sdk = createClient({ url: a.url, token: a.key! });
  try {
    const again = await sdk.runSchedule('on-demand');
    expect(again.job?.id).toBeDefined();
    expect(again.job?.id).not.toBe(r.job.id);
    expect(again.schedule?.runs).toBe(2);
    expect((await sdk.runSchedule('nope')).userErrors).toEqual([{ code: 'UNKNOWN_SCHEDULE', field: ['name'], message: 'you have no schedule "nope"' }]);
  } finally {
    await sdk.close();
  }
  expect((await remove('on-demand')).userErrors).toEqual([]);
});

it('refuses a bad cron, time zone, type, payload or name, each on its field, storing nothing', async () => {
  const cases: [Record<string, unknown>, string, string[]][] = [
    [{ cron: '* * * *' }, 'INVALID_SCHEDULE', ['input', 'cron']],
    [{ cron: '0 0 30 2 *' }, 'INVALID_SCHEDULE', ['input', 'cron']],
    [{ cron: '61 * * * *' }, 'INVALID_SCHEDULE', ['input', 'cron']],
    [{ cron: `0 0 * * ${'1,'.repeat(150)}1` }, 'INVALID_SCHEDULE', ['input', 'cron']],
    [{ timezone: 'Mars/Olympus' }, 'INVALID_SCHEDULE', ['input', 'timezone']],
    [{ type: 'no.such' }, 'UNKNOWN_JOB_TYPE', ['input', 'type']],
    [{ type: 'demo.sleep', payload: { ms: -1 } }, 'INVALID_PAYLOAD', ['input', 'payload', 'ms']],
    [{ maxAttempts: 0 }, 'OUT_OF_RANGE', ['input', 'maxAttempts']],
    [{ name: '' }, 'OUT_OF_RANGE', ['input', 'name']],
  ];
  for (const [override, code, field] of cases) {
    const r = await upsert({ name: 'bad', type: 'demo.noop', cron: '* * * * *', ...override });
    expect(r.schedule, JSON.stringify(override)).toBeNull();
    expect(r.userErrors, JSON.stringify(override)).toEqual([expect.objectContaining({ code, field })]);
  }
  expect(await env.sql`select name from schedules where name in ('bad', '')`).toEqual([]);
  expect(await remove('bad')).toEqual({
    schedule: null,
    userErrors: [{ code: 'UNKNOWN_SCHEDULE', field: ['name'], message: 'you have no schedule "bad"' }],
  });
});

it("keeps each owner's schedules apart, at most 100 of them", async () => {
  const other = { authorization: bearer((await a.createKey('other')).key) };
  expect((await upsert({ name: 'mine', type: 'demo.noop', cron: '@yearly' })).userErrors).toEqual([]);
  expect((await list(a.url, other)).map((s) => s.name)).toEqual([]);
  expect((await remove('mine', a.url, other)).userErrors[0].code).toBe('UNKNOWN_SCHEDULE');
  const theirs = await upsert({ name: 'mine', type: 'demo.noop', cron: '@daily' }, a.url, other);
  expect(theirs).toMatchObject({ created: true, userErrors: [] });
  expect((await list()).find((s) => s.name === 'mine')).toBeDefined();
  expect(await env.sql`select owner, cron from schedules where name = 'mine' order by owner`).toEqual([
    { owner: 'other', cron: '@daily' },
    { owner: 'test', cron: '@yearly' },
  ]);

  // Another owner's schedules: an admin key may name the owner; any other key is FORBIDDEN.
  const theirsAsAdmin = (await dataOf(a.url, `query { schedules(owner: "other") { name owner cron } }`, {})).schedules;
  expect(theirsAsAdmin).toEqual([{ name: 'mine', owner: 'other', cron: '@daily' }]);
  const pausedByAdmin = (await dataOf(a.url, `mutation { pauseSchedule(name: "mine", owner: "other") { schedule { owner paused } userErrors { code } } }`, {})).pauseSchedule;
  expect(pausedByAdmin).toEqual({ schedule: { owner: 'other', paused: true }, userErrors: [] });
  expect((await list()).find((s) => s.name === 'mine').paused).toBe(false); // the admin's own is not touched
  const forbidden = await gql(a.url, `query { schedules(owner: "test") { name } }`, {}, other);
  expect(forbidden.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  const notTheirs = await gql(a.url, `mutation { deleteSchedule(name: "mine", owner: "test") { userErrors { code } } }`, {}, other);
  expect(notTheirs.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
  expect((await list()).find((s) => s.name === 'mine')).toBeDefined();

  // 99 more of its own: the 101st is refused, replacing one of the 100 is not.
  for (let i = 1; i < 100; i++) expect((await upsert({ name: `n${i}`, type: 'demo.noop', cron: '@yearly' }, a.url, other)).userErrors).toEqual([]);
  const full = await upsert({ name: 'n100', type: 'demo.noop', cron: '@yearly' }, a.url, other);
  expect(full.userErrors).toEqual([{ code: 'OUT_OF_RANGE', field: ['input', 'name'], message: 'at most 100 schedules per owner; delete one first' }]);
  expect((await upsert({ name: 'n5', type: 'demo.noop', cron: '@monthly' }, a.url, other))).toMatchObject({ created: false, userErrors: [] });
  expect((await list(a.url, other))).toHaveLength(100);
});

it('is in the SDK: upsertSchedule, schedules and deleteSchedule, typed', async () => {
  const sdk = createClient({ url: a.url, token: a.key! });
  try {
    const made = await sdk.upsertSchedule({ name: 'report', type: 'demo.sleep', payload: { ms: 5 }, cron: '0 6 * * 1-5', timezone: 'Europe/Berlin' });
    expect(made.userErrors).toEqual([]);
    expect(made.schedule).toMatchObject({ name: 'report', cron: '0 6 * * 1-5', timezone: 'Europe/Berlin', runs: 0, lastJob: null });
    // 06:00 in Berlin is 05:00 or 04:00 UTC, on a weekday.
    const next = new Date(made.schedule!.nextRunAt!);
    expect([4, 5]).toContain(next.getUTCHours());
    expect([1, 2, 3, 4, 5]).toContain(next.getUTCDay());
    expect((await sdk.schedules()).map((s) => s.name)).toContain('report');
    expect((await sdk.deleteSchedule('report')).schedule?.name).toBe('report');
    expect((await sdk.deleteSchedule('report')).userErrors.map((e) => e.code)).toEqual(['UNKNOWN_SCHEDULE']);
  } finally {
    await sdk.close();
  }
});
