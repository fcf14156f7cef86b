/**
 * Crashes: a worker SIGKILLed mid-job, and the dead-letter recorder killed between copying a dead letter and
 * marking the job. Real processes, real services.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { createTestEnv, startTestApp, type TestEnv } from '../support/app.js';
import { spawnApi, spawnWorker } from '../support/processes.js';
import { probeStreams, type StreamProbe } from '../support/streams.js';
import { names } from '../../src/messaging/names.js';

const FAST = { ACK_WAIT_MS: '1500', SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'info' };
const SLOW_TEST = 300_000; // real processes; the machine may be busy

let env: TestEnv;
let probe: StreamProbe;
beforeAll(async () => {
  env = await createTestEnv();
  probe = await probeStreams(env.natsUrl);
});
afterAll(async () => {
  await probe?.close();
  await env?.dispose();
});

const submit = async (url: string, input: Record<string, unknown>) => {
  const r = (await gql(url, SUBMIT, { input })).body.data.submitJob;
  expect(r.userErrors).toEqual([]);
  return r.job.id as string;
};
const attemptStarts = (job: any) => job.events.filter((e: any) => e.state === 'RUNNING' && e.message === null);

describe('a worker killed with SIGKILL mid-job', () => {
  it('has its job redelivered after AckWait to another worker; the job finishes once, with both attempts in its history', async () => {
    const t = await startTestApp({ env, handlers: null, config: FAST });
    try {
      const a = await spawnWorker({ ...env.env, ...FAST });
      // Long enough (1 s per step) to be seen RUNNING on a slow machine before the kill.
      const id = await submit(t.url, { type: 'demo.sleep', payload: { ms: 8000, steps: 8 } });
      await waitForJob(t.url, id, (j) => j.state === 'RUNNING' && j.progress > 0);
      await a.kill('SIGKILL');
      const b = await spawnWorker({ ...env.env, ...FAST });
      try {
        const job = await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
        expect(job.attempts).toBe(2);
        expect(attemptStarts(job).map((e: any) => e.attempt)).toEqual([1, 2]);
        expect(job.events.filter((e: any) => e.state === 'SUCCEEDED')).toHaveLength(1);
        expect(job.result).toEqual({ slept: 8000, steps: 8 });
        expect((await probe.state(names(env.prefix).jobsStream)).messages).toBe(0);
      } finally {
        await b.kill('SIGTERM');
      }
    } finally {
      await t.dispose();
    }
  }, SLOW_TEST);
});

describe('a job cancelled while its worker lies dead', () => {
  it('ends CANCELLED, not FAILED and dead-lettered, once the dead worker\'s lease runs out', async () => {
    // A lease long enough that the cancel surely comes while the dead worker still holds the job.
    const config = { ACK_WAIT_MS: '8000', SHUTDOWN_GRACE_MS: '0' };
    const own = await createTestEnv();
    const t = await startTestApp({ env: own, handlers: null, config });
    try {
      const a = await spawnWorker({ ...own.env, ...config });
      const lastAttempt = await submit(t.url, { type: 'demo.sleep', payload: { ms: 60_000, steps: 60 }, maxAttempts: 1 });
      const attemptsLeft = await submit(t.url, { type: 'demo.sleep', payload: { ms: 60_000, steps: 60 }, maxAttempts: 3 });
      for (const id of [lastAttempt, attemptsLeft]) await waitForJob(t.url, id, (j) => j.state === 'RUNNING');
      await a.kill('SIGKILL');
      for (const id of [lastAttempt, attemptsLeft]) {
        const r = (await gql(t.url, `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`, { id })).body.data.cancelJob;
        expect(r).toEqual({ job: { state: 'RUNNING' }, userErrors: [] }); // asked; the (dead) worker is to stop it
      }
      const b = await spawnWorker({ ...own.env, ...config });
      try {
        for (const id of [lastAttempt, attemptsLeft]) {
          const job = await waitForJob(t.url, id, (j) => j.finishedAt !== null, 60_000);
          expect({ state: job.state, error: job.error }).toEqual({ state: 'CANCELLED', error: null });
        }
        const dl = (await gql(t.url, `{ deadLetters(first: 10) { totalCount } }`)).body.data.deadLetters;
        expect(dl.totalCount).toBe(0);
        expect((await probe.state(names(own.prefix).jobsStream)).messages).toBe(0);
      } finally {
        await b.kill('SIGTERM');
      }
    } finally {
      await t.dispose();
      await own.dispose();
    }
  }, SLOW_TEST);
});

describe('the dead-letter recorder', () => {
  it('surfaces a dead letter with no worker running, and records it once across a crash before marking', async () => {
    const n = names(env.prefix);
    const api1 = await spawnApi({ ...env.env, ...FAST, LONGRUN_FAULTS: 'dead-letter-before-mark' });
    const worker = await spawnWorker({ ...env.env, ...FAST });
    const id = await submit(api1.url, { type: 'demo.sleep', payload: { ms: 60_000, steps: 60 }, maxAttempts: 1 });
    await waitForJob(api1.url, id, (j) => j.state === 'RUNNING');
    await worker.kill('SIGKILL'); // its last attempt is lost, and nothing pulls any more

    // The sweep finds the abandoned job, copies it to the dead-letter stream, removes it from the work
    // queue, and the process dies at the fault point before marking the job.
    const died = await api1.exited;
    expect(died.signal).toBe('SIGKILL');
    const dlSubject = n.deadLetterSubject('demo.sleep', id);
    expect((await probe.state(n.deadLetterStream, dlSubject)).messages).toBe(1);
    expect((await probe.state(n.jobsStream)).messages).toBe(0);
    const [row] = await env.sql`select state from jobs where id = ${id}`;
    expect(row!.state).toBe('RUNNING');

    const api2 = await spawnApi({ ...env.env, ...FAST });
    try {
      const job = await waitForJob(api2.url, id, (j) => j.state === 'FAILED');
      expect(job.error).toBe('worker lost during the last attempt');
      expect(job.events.filter((e: any) => e.state === 'FAILED')).toHaveLength(1);
      const dl = (await gql(api2.url, `{ deadLetters(first: 10) { totalCount edges { node { id } } } }`)).body.data.deadLetters;
      expect(dl.edges.map((e: any) => e.node.id)).toEqual([id]);
      expect((await probe.state(n.deadLetterStream, dlSubject)).messages).toBe(1);
      const copy = await probe.jsm.streams.getMessage(n.deadLetterStream, { last_by_subj: dlSubject });
      expect(copy?.json<{ id: string }>().id).toBe(id);
    } finally {
      await api2.kill('SIGTERM');
    }
  }, SLOW_TEST);
});
