/**
 * WORKER_CONCURRENCY=0 means "API only" (README). A worker process started with it (the API's environment
 * reused for `npm run worker`) has no slot to run a job in; it must refuse to start rather than pull jobs
 * it can never run: it would claim them (RUNNING), keep their leases and messages alive for ever, and no
 * other worker could take them.
 */
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { startWorkerPool } from '../../workers/pool.js';

const its = useFixture(async (later) => {
  const app = await startTestApp({ handlers: null });
  later(() => app.dispose());
  return { app };
});

it('a worker pool with WORKER_CONCURRENCY=0 refuses to start and takes no job', async () => {
  const { app } = its;
  const id = (await gql(app.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 0, steps: 1 } } })).body.data.submitJob.job.id as string;
  const config = loadConfig({ ...app.env.env, WORKER_CONCURRENCY: '0', ACK_WAIT_MS: '5000' });
  let pool: Awaited<ReturnType<typeof startWorkerPool>> | null = null;
  const started = startWorkerPool(config, app.app.deps).then((p) => (pool = p));
  try {
    await expect(started).rejects.toThrow(/WORKER_CONCURRENCY/);
  } finally {
    await new Promise((r) => setTimeout(r, 2000));
    const [row] = await app.env.sql`select state, attempts from jobs where id = ${id}`;
    await (pool as Awaited<typeof started> | null)?.stop(0);
    // The job was left for a worker that can run it.
    expect(row).toMatchObject({ state: 'QUEUED', attempts: 0 });
  }
});
