/**
 * A worker process run alone (`workers/main.ts`) serves its own `GET /metrics` on METRICS_PORT: the jobs it
 * ran, the queue depth of its types and the process defaults.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { freePort } from '../setup/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

let t: TestApp;
let worker: ChildProcess | null = null;
let output = '';
let port: number;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  port = await freePort();
  worker = spawn(process.execPath, ['--import', 'tsx', 'workers/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, ...t.env.env, LOG_LEVEL: 'info', METRICS_PORT: String(port), HOST: '127.0.0.1', WORKER_TYPES: 'demo.sleep' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  worker.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  worker.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  await eventually(() => output.includes('worker metrics on /metrics'), 60_000, `worker start:\n${output}`);
});
afterAll(async () => {
  if (worker && worker.exitCode === null) {
    const exited = new Promise((r) => worker!.once('exit', r));
    worker.kill('SIGTERM');
    await exited;
  }
  await t?.dispose();
});

describe('worker metrics', () => {
  it('serves the jobs it ran and its queue depth on its own port', async () => {
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 10, steps: 1 } } });
    await waitForJob(t.url, r.body.data.submitJob.job.id, (j) => j.state === 'SUCCEEDED');
    const text = await eventually(async () => {
      const body = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
      return /^longrun_jobs_finished_total\{type="demo.sleep",outcome="succeeded"\} 1$/m.test(body) ? body : undefined;
    }, 10_000, 'worker counted the job');
    expect(text).toMatch(/^longrun_queue_depth\{type="demo.sleep"\} 0$/m);
    expect(text).toMatch(/^longrun_job_queue_wait_seconds_count\{type="demo.sleep"\} 1$/m);
    expect(text).toMatch(/^longrun_dead_letter_messages 0$/m);
    expect(text).toMatch(/^process_resident_memory_bytes \d+/m);
    expect(text).not.toMatch(/^longrun_jobs_submitted_total\{/m); // submits happen in the API process
    expect((await fetch(`http://127.0.0.1:${port}/other`)).status).toBe(404);
  });
});
