/**
 * Pausing a job type (`pauseJobType`, `resumeJobType`, admins only): while it is paused its submitted jobs are
 * accepted and wait QUEUED, the jobs already running finish, and other types run as before; once resumed its
 * jobs run. A worker started while the type is paused reads it, and one that did not hear of a pause (here:
 * written to PostgreSQL only) catches up by its periodic read. jobTypes, queueStats and the CLI show it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PAUSES_READ_INTERVAL_MS } from '../../src/jobs/pauses.js';
import { PULL_EXPIRES_MS } from '../../src/messaging/pull.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { bearer, gql, SUBMIT, waitForJob } from '../support/graphql.js';

const PAUSE = /* GraphQL */ `
  mutation P($type: String!) { pauseJobType(type: $type) { jobType { name paused pausedAt } userErrors { code field message } } }
`;
const RESUME = /* GraphQL */ `
  mutation R($type: String!) { resumeJobType(type: $type) { jobType { name paused pausedAt } userErrors { code field message } } }
`;
const TYPES = /* GraphQL */ `query { jobTypes { name paused pausedAt } queueStats { type queued paused } }`;

/** Longer than a pull already out when a pause is heard takes to end, with room to spare. */
const SETTLE_MS = PULL_EXPIRES_MS + 1500;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

let t: TestApp;
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  workers = workerSwitch(t);
});
afterAll(async () => {
  await workers?.stop();
  await t?.dispose();
});

const pause = async (type: string) => (await gql(t.url, PAUSE, { type })).body.data.pauseJobType;
const resume = async (type: string) => (await gql(t.url, RESUME, { type })).body.data.resumeJobType;
async function submit(type: string, payload: Record<string, unknown>): Promise<string> {
  const r = (await gql(t.url, SUBMIT, { input: { type, payload } })).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  return r.job.id;
}
const rows = (ids: string[]) => t.env.sql<{ state: string; attempts: number }[]>`select state, attempts from jobs where id = any(${ids}) order by created_at`;
const succeeded = (id: string) => waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');

describe('a paused job type', () => {
  it('starts none of its jobs until resumed, while its running job finishes and other types run', async () => {
    await workers.start();
    const running = await submit('demo.sleep', { ms: 1500, steps: 3 });
    await waitForJob(t.url, running, (j) => j.state === 'RUNNING');

    const p = await pause('demo.sleep');
    expect(p.userErrors).toEqual([]);
    expect(p.jobType).toMatchObject({ name: 'demo.sleep', paused: true });
    const pausedAt = p.jobType.pausedAt;
    expect(Date.parse(pausedAt)).toBeGreaterThan(Date.now() - 60_000);

    const waiting = [await submit('demo.sleep', { ms: 0 }), await submit('demo.sleep', { ms: 0 })];
    await succeeded(running); // started before the pause: it goes on
    await succeeded(await submit('demo.noop', {})); // another type runs
    await sleep(SETTLE_MS);
    expect(await rows(waiting)).toEqual([
      { state: 'QUEUED', attempts: 0 },
      { state: 'QUEUED', attempts: 0 },
    ]);

    const seen = (await gql(t.url, TYPES)).body.data;
    expect(seen.jobTypes.find((j: { name: string }) => j.name === 'demo.sleep')).toEqual({ name: 'demo.sleep', paused: true, pausedAt });
    expect(seen.jobTypes.find((j: { name: string }) => j.name === 'demo.noop')).toEqual({ name: 'demo.noop', paused: false, pausedAt: null });
    expect(seen.queueStats.find((s: { type: string }) => s.type === 'demo.sleep')).toEqual({ type: 'demo.sleep', queued: 2, paused: true });

    const metrics = await (await fetch(new URL('/metrics', t.url))).text();
    expect(metrics).toMatch(/^longrun_job_type_paused\{type="demo\.sleep"\} 1$/m);
    expect(metrics).toMatch(/^longrun_job_type_paused\{type="demo\.noop"\} 0$/m);

    // Paused again: nothing changes, it keeps its first pausedAt.
    expect((await pause('demo.sleep')).jobType.pausedAt).toBe(pausedAt);

    const r = await resume('demo.sleep');
    expect(r).toEqual({ jobType: { name: 'demo.sleep', paused: false, pausedAt: null }, userErrors: [] });
    for (const id of waiting) await succeeded(id);
  });

  it('is read by a worker that starts while it is paused', async () => {
    await workers.stop();
    await pause('demo.sleep');
    const waiting = await submit('demo.sleep', { ms: 0 });
    await workers.start();
    await succeeded(await submit('demo.noop', {}));
    await sleep(SETTLE_MS);
    expect(await rows([waiting])).toEqual([{ state: 'QUEUED', attempts: 0 }]);
    await resume('demo.sleep');
    await succeeded(waiting);
  });

  it('gives back what a pull already out brings once, not straight into that pull again (each delivery counts)', async () => {
    await workers.start();
    await succeeded(await submit('demo.sleep', { ms: 0 })); // running and pulling again
    const { nats, names } = t.app.deps;
    const deliveries = async () => (await nats.jsm.consumers.info(names.jobsStream, names.workerConsumer('demo.sleep'))).delivered.consumer_seq;
    const before = await deliveries();
    await pause('demo.sleep');
    // Submitted at once: the worker's pull that was out when it heard of the pause (it lives up to
    // PULL_EXPIRES_MS) brings them, and it naks them. Nak'ed for immediate redelivery, that same pull got them
    // back over and over, up to its size: 9 or 10 deliveries for 3 jobs here, a job paused twice dead-lettered unrun
    // at a concurrency of 50.
    const waiting = [await submit('demo.sleep', { ms: 0 }), await submit('demo.sleep', { ms: 0 }), await submit('demo.sleep', { ms: 0 })];
    await sleep(SETTLE_MS);
    expect((await deliveries()) - before).toBeLessThanOrEqual(waiting.length);
    expect(await rows(waiting)).toEqual(waiting.map(() => ({ state: 'QUEUED', attempts: 0 })));
    await resume('demo.sleep');
    for (const id of waiting) await succeeded(id);
  });

  it('is caught up with by a worker that did not hear of it, within its periodic read', async () => {
    await workers.start();
    // Written to PostgreSQL alone, as if the NATS message had been lost on the way to this worker.
    await t.env.sql`insert into paused_job_types (type, paused_by) values ('demo.sleep', 'test')`;
    await sleep(PAUSES_READ_INTERVAL_MS + 500);
    const waiting = await submit('demo.sleep', { ms: 0 });
    await succeeded(await submit('demo.noop', {}));
    await sleep(SETTLE_MS);
    expect(await rows([waiting])).toEqual([{ state: 'QUEUED', attempts: 0 }]);
    await resume('demo.sleep');
    await succeeded(waiting);
  });
});

describe('concurrent pauses of one type', () => {
  it('all answer paused, with the one pausedAt the type keeps', async () => {
    // Before, a pause whose insert met another's row committed meanwhile answered paused: false, pausedAt: null.
    for (let round = 0; round < 10; round++) {
      await resume('demo.noop');
      const answers = await Promise.all(Array.from({ length: 8 }, () => pause('demo.noop')));
      const [stored] = await t.env.sql<{ pausedAt: Date }[]>`select paused_at as "pausedAt" from paused_job_types where type = 'demo.noop'`;
      const pausedAt = stored!.pausedAt.toISOString();
      expect(answers).toEqual(answers.map(() => ({ jobType: { name: 'demo.noop', paused: true, pausedAt }, userErrors: [] })));
    }
    await resume('demo.noop');
  });
});

describe('pauseJobType and resumeJobType refuse', () => {
  it('a key that is not an admin\'s (FORBIDDEN), and change nothing', async () => {
    const { key } = await t.createKey('someone');
    for (const [doc, name] of [[PAUSE, 'pauseJobType'], [RESUME, 'resumeJobType']] as const) {
      const r = await gql(t.url, doc, { type: 'demo.noop' }, { authorization: bearer(key) });
      expect(r.body.errors?.[0]).toMatchObject({ message: `${name} needs an admin key`, extensions: { code: 'FORBIDDEN' } });
    }
    expect(await t.env.sql`select 1 from paused_job_types where type = 'demo.noop'`).toHaveLength(0);
  });

  it('a type this server does not have (UNKNOWN_JOB_TYPE)', async () => {
    expect(await pause('no.such')).toEqual({
      jobType: null,
      userErrors: [{ code: 'UNKNOWN_JOB_TYPE', field: ['type'], message: 'this server has no job type "no.such"' }],
    });
    expect(await t.env.sql`select 1 from paused_job_types`).toHaveLength(0);
  });
});

describe('longrun pause and resume', () => {
  it('pause, stats showing it, resume', async () => {
    const cli = (...args: string[]) => runCli(t.url, t.key!, args);
    const p = await cli('pause', 'demo.noop');
    expect(p).toMatchObject({ code: 0, stderr: '' });
    expect(p.stdout).toMatch(/^paused demo\.noop since \d{4}-\d\d-\d\dT[\d:.]+Z\n$/);
    const paused = (await cli('stats')).stdout.split('\n').find((l) => l.startsWith('demo.noop\t'))!.split('\t');
    expect(paused[9]).toBe('paused');
    expect(await cli('resume', 'demo.noop')).toMatchObject({ code: 0, stdout: 'resumed demo.noop\n' });
    const resumed = (await cli('stats')).stdout.split('\n').find((l) => l.startsWith('demo.noop\t'))!.split('\t');
    expect(resumed[9]).toBe('-');
    const unknown = await cli('pause', 'no.such');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('error UNKNOWN_JOB_TYPE type: this server has no job type "no.such"');
  });
});
