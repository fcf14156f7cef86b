/**
 * `npm start` runs the app in a process group of its own (so a terminal's Ctrl-C reaches it once, through the
 * wrapper). A wrapper killed with SIGKILL forwards nothing: the app ran on, orphaned, holding its port and its
 * jobs. Now it notices (the wrapper's IPC channel closes) and stops as on SIGTERM: its running job handed back.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { createTestEnv } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { spawnApiThroughWrapper } from '../support/processes.js';

const s = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  return { env };
});

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it('stops as on SIGTERM when its npm start wrapper is killed with SIGKILL', async () => {
  const wrapper = await spawnApiThroughWrapper({ ...s.env.env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '1', SHUTDOWN_GRACE_MS: '200' });
  const { pid } = wrapper.child;
  const appPid = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim()); // the wrapper's one child
  expect(appPid).toBeGreaterThan(0);
  try {
    const id = (await gql(wrapper.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 60_000, steps: 60 } } })).body.data.submitJob.job.id;
    await waitForJob(wrapper.url, id, (j) => j.state === 'RUNNING');

    expect(await wrapper.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    for (let deadline = Date.now() + 30_000; alive(appPid) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    expect(alive(appPid)).toBe(false);

    // Stopped gracefully: its worker handed the running job back, and nothing failed on the way.
    expect(await s.env.sql`select state, attempts from jobs where id = ${id}`).toEqual([{ state: 'QUEUED', attempts: 0 }]);
    expect(wrapper.output()).toContain('the npm start wrapper is gone');
    expect(wrapper.output()).not.toContain('graceful stop failed');
  } finally {
    if (alive(appPid)) process.kill(appPid, 'SIGKILL');
  }
});

it('goes on stopping gracefully when its wrapper is killed with SIGKILL after it forwarded SIGTERM', async () => {
  // Its own database and prefix: the test above leaves a job QUEUED that this app's worker would take first.
  const env = await createTestEnv();
  const wrapper = await spawnApiThroughWrapper({ ...env.env, LOG_LEVEL: 'info', WORKER_CONCURRENCY: '1', SHUTDOWN_GRACE_MS: '60000' });
  const { pid } = wrapper.child;
  const appPid = Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim());
  try {
    const id = (await gql(wrapper.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 3000, steps: 3 } } })).body.data.submitJob.job.id;
    await waitForJob(wrapper.url, id, (j) => j.state === 'RUNNING');

    wrapper.child.kill('SIGTERM'); // forwarded: the app stops, its running job gets the grace period
    for (let deadline = Date.now() + 30_000; !wrapper.output().includes('stopping: no new jobs') && Date.now() < deadline; ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await wrapper.kill('SIGKILL')).toEqual({ code: null, signal: 'SIGKILL' });
    for (let deadline = Date.now() + 30_000; alive(appPid) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    expect(alive(appPid)).toBe(false);

    // The wrapper's end is no second signal: the job finished in the grace period.
    expect(await env.sql`select state from jobs where id = ${id}`).toEqual([{ state: 'SUCCEEDED' }]);
    expect(wrapper.output()).not.toContain('second signal');
  } finally {
    if (alive(appPid)) process.kill(appPid, 'SIGKILL');
    await env.dispose();
  }
});

it('stops once started when its wrapper was killed with SIGKILL while it started', async () => {
  const env = await createTestEnv();
  // The wrapper as spawnApiThroughWrapper runs it, without waiting for the app to be up: it is killed first.
  const code = "import { launch } from './scripts/launch.mjs'; launch('src/main.ts', [], process.env, () => {});";
  const wrapper = spawn(process.execPath, ['--input-type=module', '-e', code], {
    cwd: new URL('../../', import.meta.url),
    env: { ...process.env, ...env.env, PORT: '0', HOST: '127.0.0.1', LONGRUN_AUTH: 'off', LOG_LEVEL: 'info', WORKER_CONCURRENCY: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  wrapper.stdout.on('data', (d: Buffer) => (out += d.toString()));
  wrapper.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const children = () => readFileSync(`/proc/${wrapper.pid}/task/${wrapper.pid}/children`, 'utf8').trim();
  let appPid = 0;
  try {
    while (!appPid) {
      appPid = Number(children());
      if (!appPid) await new Promise((r) => setTimeout(r, 5));
    }
    wrapper.kill('SIGKILL'); // the app is still loading: it has not started watching for the wrapper yet
    for (let deadline = Date.now() + 60_000; alive(appPid) && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 100));
    expect(alive(appPid)).toBe(false);
    expect(out).toContain('longrun is running');
    expect(out).toContain('the npm start wrapper is gone');
    expect(out).not.toContain('graceful stop failed');
  } finally {
    if (appPid && alive(appPid)) process.kill(appPid, 'SIGKILL');
    await env.dispose();
  }
});
