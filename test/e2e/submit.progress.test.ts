/**
 * The whole arrow, through the typed SDK: submitJob over HTTP → PostgreSQL + JetStream → worker → progress
 * over graphql-ws (the SDK's `watchJob` runs `jobProgress` on the real graphql-ws client). Jobs are submitted
 * with the workers stopped and the workers start once the watchers are attached, so the watchers see the
 * whole run however slow the machine is.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { JobUpdate, LongrunClient, SubmitJobInput } from '../../sdk/index.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { sdkFor } from '../support/sdk.js';
import { waitForJob } from '../support/graphql.js';
import { openJobProgress } from '../../src/progress/job-progress.js';

let t: TestApp;
let sdk: LongrunClient;
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  sdk = sdkFor(t);
  workers = workerSwitch(t);
});
afterAll(async () => {
  await workers?.stop();
  await sdk?.close();
  await t?.dispose();
});

/** Submits with the workers stopped: the job stays QUEUED until `workers.start()`. */
async function submit(input: SubmitJobInput) {
  await workers.stop();
  const { job, userErrors } = await sdk.submitJob(input);
  expect(userErrors).toEqual([]);
  return job!;
}

/** Every update of a watch until the job finishes; `onFirst` runs once the first update arrived. */
async function watchAll(id: string, after?: number, onFirst?: () => Promise<void>): Promise<JobUpdate[]> {
  const values: JobUpdate[] = [];
  for await (const u of sdk.watchJob(id, after === undefined ? {} : { after })) {
    values.push(u);
    if (values.length === 1) await onFirst?.();
  }
  return values;
}

/** Starts the workers once `n` watchers have their first update. */
function whenAttached(n: number): () => Promise<void> {
  let attached = 0;
  let started: Promise<void> | null = null;
  return async () => {
    if (++attached === n) started = workers.start();
    await started;
  };
}

describe('submit → worker → live progress', () => {
  it('answers QUEUED at once, then streams snapshot, ordered progress and SUCCEEDED with its result', async () => {
    const job = await submit({ type: 'demo.sleep', payload: { ms: 800, steps: 4 } });
    expect(job.state).toBe('QUEUED');
    expect(job.attempts).toBe(0);

    const values = await watchAll(job.id, undefined, () => workers.start());
    // The first value is a snapshot of where the job was when the subscription started.
    expect(values[0]!.jobId).toBe(job.id);
    const seqs = values.map((v) => v.seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(seqs).size).toBe(seqs.length);
    const progress = values.filter((v) => v.state === 'RUNNING').map((v) => v.progress);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    expect(progress).toContain(100);
    const last = values.at(-1)!;
    expect(last.state).toBe('SUCCEEDED');
    expect(last.result).toEqual({ slept: 800, steps: 4 });

    const polled = (await sdk.job(job.id))!;
    expect(polled).toMatchObject({ state: 'SUCCEEDED', progress: 100, attempts: 1, result: { slept: 800, steps: 4 } });
    expect(polled.finishedAt).not.toBeNull();
    expect(polled.events.map((e) => e.state)).toEqual(expect.arrayContaining(['QUEUED', 'RUNNING', 'SUCCEEDED']));
    expect(polled.events.at(-1)!.seq).toBe(last.seq);
  });

  it('gives two subscribers to one job every update', async () => {
    const job = await submit({ type: 'demo.sleep', payload: { ms: 1000, steps: 5 } });
    const attached = whenAttached(2);
    const [ra, rb] = await Promise.all([watchAll(job.id, undefined, attached), watchAll(job.id, undefined, attached)]);
    const tail = (vs: JobUpdate[]) => vs.filter((v) => v.seq > Math.max(ra[0]!.seq, rb[0]!.seq)).map((v) => [v.seq, v.state, v.progress]);
    expect(tail(ra)).toEqual(tail(rb));
    expect(ra.filter((v) => v.state === 'RUNNING' && v.progress > 0).length).toBeGreaterThanOrEqual(4);
    expect(ra.at(-1)!.state).toBe('SUCCEEDED');
    expect(rb.at(-1)!.state).toBe('SUCCEEDED');
  });

  it('follows a job named by its id in capitals to its end, as in lower case', async () => {
    const job = await submit({ type: 'demo.sleep', payload: { ms: 300, steps: 2 } });
    const values = await watchAll(job.id.toUpperCase(), undefined, whenAttached(1));
    expect(values.map((u) => u.state)).toContain('RUNNING');
    expect(values.at(-1)).toMatchObject({ jobId: job.id, state: 'SUCCEEDED' });
  });

  it('resumes with `after`: every recorded change after that seq, no duplicate, no gap', async () => {
    const job = await submit({ type: 'demo.sleep', payload: { ms: 1500, steps: 3 } });
    // Drop the first watch after its second value.
    const seen: JobUpdate[] = [];
    for await (const u of sdk.watchJob(job.id)) {
      seen.push(u);
      if (seen.length === 1) await workers.start();
      if (seen.length === 2) break;
    }
    const resumeAt = seen.at(-1)!.seq;

    const values = await watchAll(job.id, resumeAt);
    expect(values.length).toBeGreaterThan(0);
    expect(values[0]!.seq).toBeGreaterThan(resumeAt);
    expect(values.at(-1)!.state).toBe('SUCCEEDED');

    // Everything PostgreSQL recorded after `resumeAt` was delivered, in order, once.
    const recorded = (await sdk.job(job.id))!.events.filter((e) => e.seq > resumeAt).map((e) => e.seq);
    const delivered = values.map((v) => v.seq);
    expect(new Set(delivered).size).toBe(delivered.length);
    expect(delivered.filter((s) => recorded.includes(s))).toEqual(recorded);
  });

  it('replays a finished job from `after: 0` and completes', async () => {
    const job = await submit({ type: 'demo.sleep', payload: { ms: 0, steps: 2 } });
    await watchAll(job.id, undefined, () => workers.start());
    const values = await watchAll(job.id, 0);
    expect(values[0]).toMatchObject({ seq: 1, state: 'QUEUED' });
    expect(values.at(-1)).toMatchObject({ state: 'SUCCEEDED', result: { slept: 0, steps: 2 } });
  });

  it('refuses an `after` past every update of the job with BAD_USER_INPUT, waiting or finished', async () => {
    // Waiting: seq 1 is all it has. A watch that waited for an update after seq 5 would drop every later
    // one up to 5, the job's end among them, and never complete.
    const waiting = await submit({ type: 'demo.sleep', payload: { ms: 0, steps: 1 } });
    await expect(watchAll(waiting.id, 5)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('after') });
    // Nor is there one before the first (seq 1): a negative `after` names no update either.
    await expect(watchAll(waiting.id, -5)).rejects.toMatchObject({ code: 'BAD_USER_INPUT', message: expect.stringContaining('after') });
    const done = await submit({ type: 'demo.sleep', payload: { ms: 0, steps: 1 } });
    const values = await watchAll(done.id, undefined, () => workers.start());
    const last = values.at(-1)!;
    expect(last.state).toBe('SUCCEEDED');
    await expect(watchAll(done.id, last.seq + 1)).rejects.toMatchObject({ code: 'BAD_USER_INPUT' });
    // Up to its last seq is fine: nothing more to send, so the watch completes.
    expect(await watchAll(done.id, last.seq)).toEqual([]);
  });

  it('ends a watch whose `after` lies among a running attempt\'s reserved seqs when the job ends below it', async () => {
    const job = await submit({ type: 'demo.sleep', payload: { ms: 60_000, steps: 60 } });
    await workers.start();
    const running = await waitForJob(t.url, job.id, (j) => j.state === 'RUNNING');
    // What the jobProgress resolver opens; it resolves once it has read the job (RUNNING), and is live.
    const after = running.events.at(-1).seq + 500;
    const stream = await openJobProgress({ sql: t.app.deps.sql, hub: t.app.hub, names: t.app.deps.names }, job.id, after);
    expect((await sdk.cancelJob(job.id)).userErrors).toEqual([]);
    const values = [];
    for await (const u of stream) values.push(u);
    expect(values).toEqual([]);
    expect((await sdk.job(job.id))!.state).toBe('CANCELLED');
  });

  it('replays a job retried after it FAILED from `after: 0` through every attempt series to its current end', async () => {
    const job = await submit({ type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 });
    expect((await watchAll(job.id, undefined, () => workers.start())).at(-1)!.state).toBe('FAILED');
    expect((await sdk.retryJob(job.id)).userErrors).toEqual([]);
    expect((await watchAll(job.id)).at(-1)!.state).toBe('FAILED'); // failed again, for good
    const events = (await sdk.job(job.id))!.events;
    const values = await watchAll(job.id, 0);
    // The first series' FAILED is history, not the end: the replay goes on to the job's last update.
    expect(values.map((v) => [v.seq, v.state])).toEqual(events.map((e) => [e.seq, e.state]));
    expect(values.filter((v) => v.state === 'FAILED')).toHaveLength(2);
  });

  it('answers NOT_FOUND for an unknown job id', async () => {
    await expect(watchAll('00000000-0000-4000-8000-000000000000')).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });

  it('runs the realistic handler: SHA-256 over generated data, in chunks with progress', async () => {
    const job = await submit({ type: 'demo.hash', payload: { mib: 8, seed: 'abc' } });
    const values = await watchAll(job.id, undefined, () => workers.start());
    expect(values.filter((v) => v.state === 'RUNNING' && v.message?.endsWith('MiB')).length).toBeGreaterThan(1);
    const done = values.at(-1)!;
    expect(done.state).toBe('SUCCEEDED');
    const result = done.result as { bytes: number; sha256: string };
    expect(result.bytes).toBe(8 * 1024 * 1024);
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });
});
