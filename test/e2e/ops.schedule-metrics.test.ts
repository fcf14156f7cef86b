/**
 * The schedule metrics on `GET /metrics`: `longrun_schedules` counts every owner's schedules by state,
 * `longrun_schedule_lag_seconds` shows how late a schedule no scheduler pass can take is, and the run counters
 * move when a pass makes a schedule's job (or makes none, its type unknown to this server).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql } from '../support/graphql.js';
import { holdInTransaction } from '../support/held-row.js';
import { eventually } from '../support/receivers.js';
import { runDueSchedules } from '../../src/jobs/schedules.js';

const UPSERT = /* GraphQL */ `
  mutation ($input: ScheduleInput!) { upsertSchedule(input: $input) { schedule { name } userErrors { code message } } }`;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null }); // no workers: the jobs made stay QUEUED
});
afterAll(async () => {
  await t?.dispose();
});

type Samples = { name: string; labels: Record<string, string>; value: number }[];

async function scrape(): Promise<Samples> {
  const res = await fetch(new URL('/metrics', t.url));
  expect(res.status).toBe(200);
  const samples: Samples = [];
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return samples;
}

/** The one sample of `name` with exactly `labels`; undefined when the scrape has none. */
const sample = (s: Samples, name: string, labels: Record<string, string> = {}) =>
  s.find((x) => x.name === name && JSON.stringify(x.labels) === JSON.stringify(labels))?.value;

async function upsert(input: Record<string, unknown>, headers?: Record<string, string>): Promise<void> {
  const { body } = await gql(t.url, UPSERT, { input }, headers);
  expect(body.errors).toBeUndefined();
  expect(body.data.upsertSchedule.userErrors).toEqual([]);
}

/**
 * Holds the schedule's row with `for key share` until `release`: the scheduler's `for update skip locked`
 * skips it, while a plain update of `next_run_at` (no key column) still commits.
 */
const holdSchedule = (name: string) =>
  holdInTransaction(t.env.sql, async (q) => expect(await q`select 1 from schedules where owner = 'test' and name = ${name} for key share`).toHaveLength(1));

const runsOf = async (owner: string, name: string) =>
  (await t.env.sql<{ runs: number }[]>`select runs::int as runs from schedules where owner = ${owner} and name = ${name}`)[0]!.runs;

it('counts every owner’s schedules by state, and shows how late one that no pass can take is; its run is counted', async () => {
  const before = await scrape();
  expect(sample(before, 'longrun_schedules', { state: 'active' })).toBe(0);
  expect(sample(before, 'longrun_schedules', { state: 'paused' })).toBe(0);
  expect(sample(before, 'longrun_schedule_lag_seconds')).toBe(0);

  // Yearly crons: no run comes by itself while the test runs.
  await upsert({ name: 'late', type: 'demo.sleep', payload: { ms: 1, steps: 1 }, cron: '0 0 1 1 *' });
  await upsert({ name: 'quiet', type: 'demo.noop', cron: '0 0 1 1 *', paused: true });
  const other = await t.createKey('other-owner');
  await upsert({ name: 'theirs', type: 'demo.noop', cron: '0 0 1 1 *' }, { authorization: bearer(other.key) });
  const made = await scrape();
  expect(sample(made, 'longrun_schedules', { state: 'active' })).toBe(2);
  expect(sample(made, 'longrun_schedules', { state: 'paused' })).toBe(1);
  expect(sample(made, 'longrun_schedule_lag_seconds')).toBe(0);

  // 'late' due 30 s ago, its row held, as a scheduler stuck on it would hold it: no pass can take it.
  const release = await holdSchedule('late');
  try {
    await t.env.sql`update schedules set next_run_at = now() - interval '30 seconds' where owner = 'test' and name = 'late'`;
    expect(await runDueSchedules(t.app.deps)).toBe(0); // a pass, as the app's own, leaves it due
    const overdue = await scrape();
    expect(sample(overdue, 'longrun_schedule_lag_seconds')).toBeGreaterThanOrEqual(30);
    expect(sample(overdue, 'longrun_schedule_lag_seconds')).toBeLessThan(30 + 60);
    expect(sample(overdue, 'longrun_schedule_runs_total', { type: 'demo.sleep' }) ?? 0).toBe(0);
    expect(await runsOf('test', 'late')).toBe(0);
  } finally {
    await release();
  }

  // Released: the next pass makes its job and moves it on to next year.
  const after = await eventually(async () => {
    const s = await scrape();
    return sample(s, 'longrun_schedule_runs_total', { type: 'demo.sleep' }) === 1 ? s : undefined;
  }, 20_000, 'the late run counted');
  expect(await runsOf('test', 'late')).toBe(1);
  expect(sample(after, 'longrun_schedule_lag_seconds')).toBe(0);
  expect(sample(after, 'longrun_schedule_runs_total', { type: 'demo.noop' })).toBeUndefined();
  expect(sample(after, 'longrun_schedule_runs_skipped_total', { type: 'demo.sleep' })).toBeUndefined();
});

it('counts a run that made no job (its type unknown to this server) as skipped, not as a run', async () => {
  // Written as an older server that had the type would have written it: upsertSchedule refuses the type now.
  await t.env.sql`
    insert into schedules (owner, name, type, payload, cron, timezone, next_run_at)
    values ('test', 'retired', 'gone.type', '{}'::jsonb, '0 0 1 1 *', 'UTC', now() - interval '1 second')`;
  await eventually(async () => sample(await scrape(), 'longrun_schedule_runs_skipped_total', { type: 'gone.type' }) === 1, 20_000, 'the skipped run counted');
  const s = await scrape();
  expect(sample(s, 'longrun_schedule_runs_total', { type: 'gone.type' })).toBeUndefined();
  expect(await runsOf('test', 'retired')).toBe(0);
  expect(sample(s, 'longrun_schedule_lag_seconds')).toBe(0);
});

it('leaves the gauges PostgreSQL does not answer for out of a scrape (no stale 0), and answers the rest', async () => {
  // The tables locked against reads: the gauges' statements wait as on a stalled PostgreSQL.
  const release = await holdInTransaction(t.env.sql, (q) => q`lock table schedules, outbox in access exclusive mode`);
  try {
    const s = await scrape();
    const unread = ['longrun_schedules', 'longrun_schedule_lag_seconds', 'longrun_outbox_backlog', 'longrun_outbox_oldest_age_seconds'];
    expect(s.filter((x) => unread.includes(x.name))).toEqual([]);
    expect(sample(s, 'longrun_dead_letter_messages')).toBe(0);
    expect(sample(s, 'longrun_job_type_paused', { type: 'demo.noop' })).toBe(0);
  } finally {
    await release();
  }
  await eventually(async () => sample(await scrape(), 'longrun_schedule_lag_seconds') === 0, 20_000, 'the schedule gauges back');
});
