// @module-tag faults
/**
 * An API process SIGKILLed between committing a scheduler pass (a schedule's job and outbox entry, the
 * schedule moved on) and publishing the job: the surviving API process's outbox relay publishes the entry it
 * left behind, and the schedule goes on there. Every run's job succeeds, one job per run time, none twice.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { spawnApi, spawnWorker, type LongrunProcess } from '../support/processes.js';

const CONFIG = { ACK_WAIT_MS: '3000', LOG_LEVEL: 'warn', RELAY_INTERVAL_MS: '250' };
const NAME = 'tick';
const PREFIX = `schedule:${NAME}:`;

const UPSERT = /* GraphQL */ `
  mutation ($input: ScheduleInput!) { upsertSchedule(input: $input) { schedule { name runs } userErrors { code message } } }`;
const DELETE = /* GraphQL */ `
  mutation ($name: String!) { deleteSchedule(name: $name) { schedule { runs lastRunAt } userErrors { code message } } }`;
const LIST = /* GraphQL */ `
  query { schedules { name runs } }`;

let env: TestEnv;
const procs: LongrunProcess[] = [];
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  for (const p of procs) await p.kill('SIGKILL');
  await env?.dispose();
});

/** The operation's data; its errors thrown. */
async function dataOf(url: string, query: string, variables: Record<string, unknown> = {}): Promise<any> {
  const { body } = await gql(url, query, variables);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}
async function until<T>(what: string, check: () => Promise<T | false | undefined | null>, timeoutMs = 60_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 200))) {
    const v = await check();
    if (v) return v;
  }
  throw new Error(`timed out waiting for: ${what}`);
}
const jobsOfSchedule = () =>
  env.sql<{ key: string; state: string; createdAt: Date }[]>`
    select idempotency_key as key, state, created_at as "createdAt" from jobs
    where idempotency_key like ${`${PREFIX}%`} order by idempotency_key`;
/** The first whole second after an instant: the next run of `* * * * * *`. */
const secondAfter = (t: Date) => Math.floor(t.getTime() / 1000) * 1000 + 1000;

it('makes one job per run, each run to SUCCEEDED, when an API process dies between committing a run and publishing it', async () => {
  // The doomed process runs the schedule alone and dies right after committing its third run; the survivor
  // starts after that, so nothing else can have published what the doomed process left behind. (Two
  // schedulers taking the same run is e2e/schedules' test.)
  const doomed = await spawnApi({ ...env.env, ...CONFIG, LONGRUN_FAULTS: 'schedule-after-commit@3' });
  const worker = await spawnWorker({ ...env.env, ...CONFIG });
  procs.push(doomed, worker);

  const made = (await dataOf(doomed.url, UPSERT, { input: { name: NAME, type: 'demo.noop', cron: '* * * * * *' } })).upsertSchedule;
  expect(made.userErrors).toEqual([]);
  const died = await Promise.race([doomed.exited, until<never>('the doomed process to die', async () => false, 60_000)]);
  expect(died.signal).toBe('SIGKILL');
  // What it committed is in PostgreSQL, unpublished.
  const leftBehind = await env.sql<{ key: string }[]>`
    select j.idempotency_key as key from outbox o join jobs j on j.id = o.job_id
    where o.published_at is null and j.idempotency_key like ${`${PREFIX}%`}`;
  expect(leftBehind.length).toBeGreaterThan(0);

  const survivor = await spawnApi({ ...env.env, ...CONFIG });
  procs.push(survivor);
  // A few more runs, made by the survivor alone.
  const runsAtDeath: number = (await dataOf(survivor.url, LIST)).schedules.find((s: any) => s.name === NAME).runs;
  await until('five more runs', async () => (await dataOf(survivor.url, LIST)).schedules.find((s: any) => s.name === NAME && s.runs >= runsAtDeath + 5));
  const deleted = (await dataOf(survivor.url, DELETE, { name: NAME })).deleteSchedule;
  expect(deleted.userErrors).toEqual([]);
  const runs: number = deleted.schedule.runs;

  // Every run's job was committed before the delete took the schedule's row: now they all run.
  const jobs = await until('every job of the schedule to succeed', async () => {
    const js = await jobsOfSchedule();
    return js.every((j) => j.state === 'SUCCEEDED') && js;
  });
  for (const { key } of leftBehind) expect(jobs.find((j) => j.key === key)?.state).toBe('SUCCEEDED');
  // One job per run: as many as the schedule counted, each its own run time (the keys are unique per owner,
  // so a run made twice would show here as a count above the jobs).
  expect(jobs).toHaveLength(runs);
  const runTimes = jobs.map((j) => Date.parse(j.key.slice(PREFIX.length)));
  expect(new Set(runTimes).size).toBe(runs);
  expect(new Date(runTimes.at(-1)!).toISOString()).toBe(deleted.schedule.lastRunAt);
  // No run skipped but those missed while no API process ran: each run's next is the first second after the
  // pass that made it (its job's created_at, the pass's transaction time). That is the next second unless the
  // pass came more than a second late (the survivor starting, or a busy box), which skips the seconds it
  // missed, as README says of missed runs.
  let skipped = 0;
  jobs.forEach((j, i) => {
    expect(j.createdAt.getTime()).toBeGreaterThanOrEqual(runTimes[i]!); // not before its run
    if (i === 0) return;
    expect(runTimes[i]).toBe(secondAfter(jobs[i - 1]!.createdAt));
    skipped += (runTimes[i]! - runTimes[i - 1]!) / 1000 - 1;
  });
  console.log(`schedule-kill: ${runs} runs (${runsAtDeath} when the doomed process died), ${leftBehind.length} left behind by the killed process, ${skipped} seconds skipped by late passes`);

  // Every outbox entry gets marked published: the killed process's by the survivor's relay.
  let unpublished = -1;
  for (let i = 0; i < 100 && unpublished !== 0; i++) {
    unpublished = (await env.sql<{ n: number }[]>`select count(*)::int as n from outbox where published_at is null`)[0]!.n;
    if (unpublished) await new Promise((r) => setTimeout(r, 200));
  }
  expect(unpublished).toBe(0);
});
