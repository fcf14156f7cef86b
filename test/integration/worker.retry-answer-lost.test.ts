/**
 * A worker writes an attempt's failure (RETRYING, the next attempt due at `nextAttemptAt`), PostgreSQL commits
 * it, and the connection drops before the answer reaches the worker. Its retried write is refused by that very
 * write (the job is no longer RUNNING), and so is the cancel settle falls back to. The job must still retry as
 * its RETRYING row says: watchers get the RETRYING update, and the next attempt starts no earlier than
 * `nextAttemptAt`, not as soon as the un-acked message's AckWait runs out.
 *
 * The workers reach PostgreSQL through a proxy that delays what PostgreSQL sends them by 1.5 s, so the test
 * sees the committed RETRYING while its answer is still on the way, and cuts the connection then.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { collect, gql, PROGRESS, SUBMIT, waitForJob, wsClient } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

// A fixed backoff well past AckWait (6 s): a retry that waited for AckWait instead would start before it.
const flakyJob = defineJobType({
  name: 'test.flaky',
  description: 'fails once',
  payload: z.object({}),
  maxAttempts: 2,
  backoff: { baseMs: 15_000, factor: 1, maxMs: 15_000, jitter: 0 },
});
const runs: number[] = [];
const flakyHandler = defineHandler(flakyJob, async (_p, ctx) => {
  runs.push(ctx.attempt);
  if (ctx.attempt === 1) throw new Error('boom');
  return 'ran';
});

const types = [...BUILTIN_JOB_TYPES, flakyJob];
/** `direct`: the API alone; `proxied`: the workers, on PostgreSQL through the proxy. */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config: { ACK_WAIT_MS: '6000' } },
  proxied: { types, handlers: [flakyHandler], config: { ACK_WAIT_MS: '6000', WORKER_CONCURRENCY: '1' } },
});

it('a RETRYING write whose answer is lost: watchers see RETRYING, and the retry waits for nextAttemptAt', async () => {
  const { env, proxy, direct: api } = f;
  proxy.slow(1500);
  const id = (await gql(api.url, SUBMIT, { input: { type: 'test.flaky', payload: {} } })).body.data.submitJob.job.id as string;
  const client = wsClient(api.wsUrl);
  const watched = collect<{ state: string; attempt: number; error: string | null }>(client, PROGRESS, { id });
  try {
    // Committed; the worker hears of it 1.5 s later, unless the connection goes first.
    const [retrying] = await eventually(
      async () => {
        const rows = await env.sql<{ nextAttemptAt: Date }[]>`select next_attempt_at as "nextAttemptAt" from jobs where id = ${id} and state = 'RETRYING'`;
        return rows.length ? rows : undefined;
      },
      20_000,
      'the RETRYING write committed',
    );
    proxy.cut();
    proxy.slow(0);

    const job = await waitForJob(api.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED', 45_000);
    expect({ state: job.state, runs }).toEqual({ state: 'SUCCEEDED', runs: [1, 2] });
    // The second attempt as the first one's RETRYING row promised it: not before nextAttemptAt.
    expect(new Date(job.startedAt).getTime()).toBeGreaterThanOrEqual(retrying!.nextAttemptAt.getTime());
    const { values } = await watched;
    expect(values.map((u) => [u.state, u.attempt])).toContainEqual(['RETRYING', 1]);
    expect(values.find((u) => u.state === 'RETRYING')?.error).toBe('boom');
  } finally {
    await client.dispose();
  }
});
