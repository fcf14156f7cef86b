/**
 * An API process with in-process workers whose port is taken fails its start with one line that names the
 * address, and takes no job on its way out: a queued job stays QUEUED, its message free for the next worker.
 * (The workers started before the port was bound: a job they claimed in those milliseconds stayed RUNNING,
 * its message held, until its lease and AckWait ran out.)
 */
import { createServer } from 'node:net';
import { expect, it } from 'vitest';
import { createTestEnv, startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { runToExit, spawnWorker } from '../support/processes.js';

/** Two minutes: a job the next worker runs at once was not held by the failed start's workers. */
const ACK_WAIT = { ACK_WAIT_MS: '120000' };

const s = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  // Takes the submit; runs no job.
  const t = await startTestApp({ env, handlers: null, config: ACK_WAIT });
  later(() => t.dispose());
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  later(() => new Promise((resolve) => taken.close(resolve)));
  return { env, t, port: (taken.address() as { port: number }).port };
});

it('fails naming the address, and leaves a queued job QUEUED for the next worker', async () => {
  const id = (await gql(s.t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;

  const r = await runToExit('src/main.ts', {
    ...s.env.env,
    ...ACK_WAIT,
    HOST: '127.0.0.1',
    PORT: String(s.port),
    WORKER_CONCURRENCY: '2',
    LONGRUN_AUTH: 'off',
  });
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`longrun: cannot listen on 127.0.0.1:${s.port}: address already in use (set PORT or HOST)\n`);
  expect(await s.env.sql`select state, attempts from jobs where id = ${id}`).toEqual([{ state: 'QUEUED', attempts: 0 }]);

  const w = await spawnWorker({ ...s.env.env, ...ACK_WAIT });
  try {
    expect(await waitForJob(s.t.url, id, (j) => j.state === 'SUCCEEDED')).toMatchObject({ attempts: 1 });
  } finally {
    await w.kill('SIGTERM');
  }
});
