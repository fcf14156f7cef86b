/**
 * Graceful shutdown on SIGTERM: no new messages, running jobs finish within the grace period, what is left
 * is handed back for redelivery (once the worker's pull out, if any, has ended), subscriptions close with 1001, the process exits 0; a second
 * signal exits at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { collect, gql, PROGRESS, SUBMIT, waitForJob, wsClient } from '../support/graphql.js';
import { spawnApi, spawnWorker } from '../support/processes.js';
import { eventually } from '../support/receivers.js';

const SLOW_TEST = 300_000;
/** A long AckWait: a job that comes back quickly came back because it was nak'ed, not because AckWait ran out. */
const CONFIG = { ACK_WAIT_MS: '120000', LOG_LEVEL: 'info' };

let env: TestEnv;
let t: TestApp;
beforeAll(async () => {
  env = await createTestEnv();
  t = await startTestApp({ env, handlers: null, config: CONFIG });
});
afterAll(async () => {
  await t?.dispose();
  await env?.dispose();
});

const submit = async (input: Record<string, unknown>) =>
  (await gql(t.url, SUBMIT, { input })).body.data.submitJob.job.id as string;

describe('a worker process on SIGTERM', () => {
  it('lets a running job finish within the grace period, then exits 0', async () => {
    const w = await spawnWorker({ ...env.env, ...CONFIG, SHUTDOWN_GRACE_MS: '20000' });
    const id = await submit({ type: 'demo.sleep', payload: { ms: 1500, steps: 3 } });
    await waitForJob(t.url, id, (j) => j.state === 'RUNNING');
    const exit = await w.kill('SIGTERM');
    expect(exit.code).toBe(0);
    const job = await waitForJob(t.url, id, () => true);
    expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
  }, SLOW_TEST);

  it('hands back a job still running when the grace period ends; another worker takes it at once', async () => {
    const w = await spawnWorker({ ...env.env, ...CONFIG, SHUTDOWN_GRACE_MS: '200' });
    const id = await submit({ type: 'demo.sleep', payload: { ms: 30_000, steps: 30 } });
    await waitForJob(t.url, id, (j) => j.state === 'RUNNING');
    const exit = await w.kill('SIGTERM');
    expect(exit.code).toBe(0);
    const handedBack = await waitForJob(t.url, id, () => true);
    expect(handedBack).toMatchObject({ state: 'QUEUED', attempts: 0, startedAt: null });
    expect(handedBack.events.at(-1).message).toBe('handed back by a stopping worker');

    // With AckWait at two minutes, only the nak from the stopping worker can bring it back this soon.
    const w2 = await spawnWorker({ ...env.env, ...CONFIG, SHUTDOWN_GRACE_MS: '200' });
    try {
      const again = await waitForJob(t.url, id, (j) => j.state === 'RUNNING', 30_000);
      expect(again.attempts).toBe(1);
    } finally {
      await w2.kill('SIGTERM');
    }
  }, SLOW_TEST);

  it('exits at once on a second signal', async () => {
    const w = await spawnWorker({ ...env.env, ...CONFIG, SHUTDOWN_GRACE_MS: '60000' });
    const id = await submit({ type: 'demo.sleep', payload: { ms: 30_000, steps: 30 } });
    await waitForJob(t.url, id, (j) => j.state === 'RUNNING');
    w.child.kill('SIGTERM');
    // The window in which a repeat is the same signal starts when the worker handles the first one (it logs
    // that it is stopping), not when it is sent: a busy worker may handle it late.
    await eventually(() => w.output().includes('stopping: no new jobs'), 30_000, 'the worker to handle the first signal');
    await new Promise((r) => setTimeout(r, 1500)); // past that window
    const exit = await w.kill('SIGTERM');
    expect(exit.code).toBe(130);
    expect(w.output()).toContain('second signal');
  }, SLOW_TEST);

  it('takes SIGTERM delivered twice at once (a service manager and the npm start wrapper) as one: a graceful stop', async () => {
    const w = await spawnWorker({ ...env.env, ...CONFIG, SHUTDOWN_GRACE_MS: '200' });
    const id = await submit({ type: 'demo.sleep', payload: { ms: 30_000, steps: 30 } });
    await waitForJob(t.url, id, (j) => j.state === 'RUNNING');
    w.child.kill('SIGTERM');
    const exit = await w.kill('SIGTERM');
    expect(exit.code).toBe(0);
    expect(w.output()).not.toContain('second signal');
    expect(await waitForJob(t.url, id, () => true)).toMatchObject({ state: 'QUEUED', attempts: 0 });
    // Out of the way of the next tests' workers (a 30 s job in one of their slots).
    await gql(t.url, `mutation C($id: ID!) { cancelJob(id: $id) { job { state } } }`, { id });
  }, SLOW_TEST);
});

describe('an API process on SIGTERM', () => {
  // In production and development too: there Apollo Server would install SIGTERM handlers of its own, which
  // re-sent the signal once it had stopped, and the second signal ended the process before the hand-back.
  it.each(['test', 'production'])('closes live subscriptions with close code 1001 and exits 0 (NODE_ENV=%s)', async (nodeEnv) => {
    const api = await spawnApi({ ...env.env, ...CONFIG, NODE_ENV: nodeEnv, WORKER_CONCURRENCY: '2', SHUTDOWN_GRACE_MS: '200' });
    const id = (await gql(api.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 30_000, steps: 30 } } })).body.data.submitJob.job.id;
    await waitForJob(api.url, id, (j) => j.state === 'RUNNING');
    const client = wsClient(api.url.replace(/^http/, 'ws'));
    let closeCode = 0;
    client.on('closed', (e) => (closeCode = (e as { code: number }).code));
    let listening!: () => void;
    const live = new Promise<void>((r) => (listening = r));
    const watching = collect(client, PROGRESS, { id }, () => listening());
    await live; // its snapshot came: the subscription is open when the signal comes
    const exit = await api.kill('SIGTERM');
    const { values } = await watching;
    expect(api.output()).not.toContain('second signal');
    expect(exit.code).toBe(0);
    expect(closeCode).toBe(1001);
    expect(values[0].state).toBe('RUNNING');
    // The in-process worker handed its job back before the API stopped.
    const [row] = await env.sql`select state, attempts from jobs where id = ${id}`;
    expect(row).toEqual({ state: 'QUEUED', attempts: 0 });
  }, SLOW_TEST);
});
