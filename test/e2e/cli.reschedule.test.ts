/**
 * `longrun reschedule <id> --run-at ISO | --delay DURATION | --now`: the waiting job's runAt moves (printed
 * with it); none of them, or two, is bad usage (exit 2, nothing sent); one too far ahead and a job that is not
 * waiting are refused input (exit 2); an unknown id is NOT_FOUND (exit 3).
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.js';
import { useAppWithWorkerSwitch } from '../support/app.js';
import { gql } from '../support/graphql.js';

const app = useAppWithWorkerSwitch(); // its workers are never started: the jobs stay QUEUED

function longrun(...args: string[]): Promise<CliRun> {
  return runCli(app.t.url, app.t.key ?? '', args);
}
const jobOf = async (id: string) => (await gql(app.t.url, 'query($id: ID!) { job(id: $id) { state runAt seq } }', { id })).body.data.job;
async function scheduled(): Promise<string> {
  const runAt = new Date(Date.now() + 3_600_000).toISOString();
  const r = await gql(app.t.url, 'mutation($input: SubmitJobInput!) { submitJob(input: $input) { job { id } } }', {
    input: { type: 'demo.noop', runAt },
  });
  return r.body.data.submitJob.job.id;
}

it('--run-at moves the job to that instant, --delay that long from now, --now to now; each printed', async () => {
  const id = await scheduled();
  const runAt = new Date(Date.now() + 7_200_000).toISOString();
  const at = await longrun('reschedule', id, '--run-at', runAt);
  expect(at).toEqual({ code: 0, stdout: `rescheduled ${id} demo.noop QUEUED run at ${runAt}\n`, stderr: '' });
  expect(await jobOf(id)).toMatchObject({ state: 'QUEUED', runAt });

  const before = Date.now();
  const delayed = await longrun('reschedule', id, '--delay', '3h');
  const after = Date.now();
  expect(delayed.code).toBe(0);
  const moved = Date.parse((await jobOf(id)).runAt);
  expect(moved).toBeGreaterThanOrEqual(before + 3 * 3_600_000 - 1);
  expect(moved).toBeLessThanOrEqual(after + 3 * 3_600_000);

  const now = await longrun('reschedule', id, '--now', '--json');
  expect(now.code).toBe(0);
  expect(JSON.parse(now.stdout)).toMatchObject({ id, state: 'QUEUED', runAt: null });
  expect(await jobOf(id)).toMatchObject({ state: 'QUEUED', runAt: null });
});

it('refuses no time, or two, as bad usage, and a runAt too far ahead or a job not waiting as refused input (exit 2)', async () => {
  const id = await scheduled();
  const job = await jobOf(id);
  const none = await longrun('reschedule', id);
  expect(none).toMatchObject({ code: 2, stdout: '' });
  expect(none.stderr).toMatch(/^longrun: reschedule needs when: --run-at ISO, --delay DURATION or --now/);
  const two = await longrun('reschedule', id, '--delay', '1h', '--now');
  expect(two.code).toBe(2);
  expect(two.stderr).toMatch(/^longrun: --delay and --now both say when the job runs: give one/);
  const far = await longrun('reschedule', id, '--delay', '400d');
  expect(far).toEqual({ code: 2, stdout: '', stderr: 'error OUT_OF_RANGE runAt: runAt must be at most 366 days ahead\n' });
  expect(await jobOf(id)).toEqual(job);

  await gql(app.t.url, 'mutation($id: ID!) { cancelJob(id: $id) { job { state } } }', { id });
  const cancelled = await longrun('reschedule', id, '--now');
  expect(cancelled).toEqual({
    code: 2,
    stdout: '',
    stderr: 'error INVALID_STATE id: a CANCELLED job cannot be rescheduled (only QUEUED and RETRYING jobs can)\n',
  });
});

it('an unknown id: NOT_FOUND, exit 3', async () => {
  const r = await longrun('reschedule', randomUUID(), '--now');
  expect(r.code).toBe(3);
  expect(r.stderr).toMatch(/^longrun: NOT_FOUND: /);
});
