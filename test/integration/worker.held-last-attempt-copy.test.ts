/**
 * A copy of a job's message (the reconciler's, a publish retried past the dedupe window) delivered while the
 * job's last attempt runs on a worker that is alive but cut off from PostgreSQL, its lease run out. The worker
 * given the copy cannot claim it (no attempts left) and used to take the lease for a dead worker's: it failed
 * the job ("worker lost during the last attempt") and copied it to the dead letters while it ran, and the
 * holder's success was refused. It now asks the workers first, as the dead-letter sweep does, and drops the
 * copy when the holder answers: the job succeeds.
 *
 * The holder reaches PostgreSQL through a proxy the test holds shut for longer than the lease (AckWait, 2 s).
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps, workerSwitch } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { encode } from '../../src/messaging/messages.js';
import { defineHandler, sleep } from '../../workers/handler.js';

const lastJob = defineJobType({ name: 'test.last', description: 'runs `ms`', payload: z.object({ ms: z.number() }), maxAttempts: 1 });
const started = new Set<string>();
const handler = defineHandler(lastJob, async (p, ctx) => {
  started.add(ctx.jobId);
  await sleep(p.ms, ctx.signal);
  return 'done';
});

const types = [...BUILTIN_JOB_TYPES, lastJob];
const config = { ACK_WAIT_MS: '2000' };
/** `proxied`: the holder, one slot and no claims ahead (so the copy goes to the other worker). */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null, config },
  proxied: { types, handlers: [handler], config: { ...config, WORKER_CONCURRENCY: '1', WORKER_CLAIM_AHEAD: '0' } },
});

it('a copy of a last attempt\'s message, delivered while its live holder is cut off from PostgreSQL, leaves the job to it', async () => {
  const { env, proxy, direct: api } = f;
  const { nats, names } = api.app.deps;
  const submitted = await gql(api.url, SUBMIT, { input: { type: 'test.last', payload: { ms: 8000 } } });
  const id = submitted.body.data.submitJob.job.id as string;
  await eventually(async () => (started.has(id) ? true : undefined), 20_000, 'the holder runs the job');
  const other = workerSwitch(api, [handler]);
  await other.start();
  try {
    const reopen = proxy.hold();
    try {
      await eventually(
        async () => ((await env.sql`select 1 from jobs where id = ${id} and lease_until < now()`).length ? true : undefined),
        20_000,
        'the lease ran out',
      );
      const copy = await nats.js.publish(names.jobSubject('test.last'), encode({ id, type: 'test.last', series: 1 }), { msgID: `copy-${id}` });
      await eventually(async () => ((await nats.jsm.streams.getMessage(names.jobsStream, { seq: copy.seq })) ? undefined : true), 20_000, 'the other worker settled the copy');
      const [during] = await env.sql`select state, dead_lettered_at from jobs where id = ${id}`;
      expect(during).toEqual({ state: 'RUNNING', dead_lettered_at: null });
    } finally {
      reopen();
    }
    const job = await waitForJob(api.url, id, (j) => j.state !== 'RUNNING', 30_000);
    expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 1, error: null });
    const dl = (await gql(api.url, `{ deadLetters(first: 10) { totalCount } }`)).body.data.deadLetters;
    expect(dl.totalCount).toBe(0);
  } finally {
    await other.stop();
  }
}, 90_000);
