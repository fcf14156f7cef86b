// @module-tag faults
/**
 * A worker told to stop (SIGTERM) while PostgreSQL is down: it cannot write the hand-back of its running job,
 * so it gives up on it after the grace period (and a bounded wait for the write) and exits 0 instead of
 * retrying the write for ever; the job is not lost: once PostgreSQL is back, another worker claims it after
 * the stopped worker's lease and AckWait have run out. The API process, stopped during the outage too,
 * exits 0 as well.
 */
import { expect, it } from 'vitest';
import { spawnApi, spawnWorker } from '../support/processes.js';
import { eventually } from '../support/receivers.js';
import { useEnvOnPrivatePostgres } from '../support/private-postgres-env.js';

const CONFIG = { ACK_WAIT_MS: '3000', SHUTDOWN_GRACE_MS: '500', LOG_LEVEL: 'info' };

const services = useEnvOnPrivatePostgres();

const jobState = async (id: string) => (await services.env.sql<{ state: string; attempts: number }[]>`select state, attempts from jobs where id = ${id}`)[0];

it('exits 0 on SIGTERM while PostgreSQL is down, and the running job is recovered once it is back', async () => {
  const api = await spawnApi({ ...services.env.env, ...CONFIG });
  const worker = await spawnWorker({ ...services.env.env, ...CONFIG });
  services.procs.push(api, worker);
  const r = await fetch(api.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: 'mutation { submitJob(input: { type: "demo.sleep", payload: { ms: 60000, steps: 60 } }) { job { id } } }' }),
  });
  const id = ((await r.json()) as any).data.submitJob.job.id as string;
  await eventually(async () => (await jobState(id))?.state === 'RUNNING', 60_000, 'job RUNNING');

  await services.pg.stop('fast');
  const exit = await Promise.race([
    worker.kill('SIGTERM'),
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 90_000)),
  ]);
  expect(exit, worker.output().slice(-2000)).toEqual({ code: 0, signal: null });
  const apiExit = await Promise.race([
    api.kill('SIGTERM'),
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), 90_000)),
  ]);
  expect(apiExit, api.output().slice(-2000)).toEqual({ code: 0, signal: null });

  await services.pg.start();
  const again = await spawnWorker({ ...services.env.env, ...CONFIG });
  services.procs.push(again);
  // The recovered attempt runs the 60 s job: RUNNING again as attempt 2 is the proof it came back.
  const back = await eventually(async () => {
    const j = await jobState(id).catch(() => undefined);
    return j && j.state === 'RUNNING' && j.attempts === 2 ? j : undefined;
  }, 120_000, 'job claimed again');
  expect(back).toEqual({ state: 'RUNNING', attempts: 2 });
}, 300_000);
