/**
 * A worker that is alive but cut off from PostgreSQL cannot renew the lease of the job it runs; its
 * in-progress acks still keep the message. On the job's last attempt the dead-letter sweep used to take the
 * lease that ran out for a dead worker: it failed the job ("worker lost during the last attempt") and copied
 * it to the dead letters, and the handler's success, written once PostgreSQL answered again, was refused as
 * superseded. The sweep now asks over NATS whether a worker still holds the attempt, and leaves the job to it.
 *
 * The worker reaches PostgreSQL through a proxy that the test holds shut (every connection cut, new ones
 * refused) for longer than the lease, twice AckWait and two sweeps.
 */
import { expect, it } from 'vitest';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';

const ACK_WAIT_MS = 2000;
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { handlers: null, config: { ACK_WAIT_MS: String(ACK_WAIT_MS) } },
  proxied: { handlers: BUILTIN_HANDLERS, config: { ACK_WAIT_MS: String(ACK_WAIT_MS), WORKER_CONCURRENCY: '1' } },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

it('the sweep leaves a last attempt to the live worker that holds it while PostgreSQL is out of its reach', async () => {
  const { env, proxy, direct: api } = f;
  const input = { type: 'demo.sleep', payload: { ms: 20_000, steps: 0 }, maxAttempts: 1 };
  const id = (await gql(api.url, SUBMIT, { input })).body.data.submitJob.job.id as string;
  await eventually(
    async () => ((await env.sql`select 1 from jobs where id = ${id} and state = 'RUNNING'`).length ? true : undefined),
    20_000,
    'the worker claimed the job',
  );
  const reopen = proxy.hold();
  try {
    // The sweep's own condition: the lease ran out more than twice AckWait ago.
    await eventually(
      async () =>
        (await env.sql`select 1 from jobs where id = ${id} and lease_until < now() - ${2 * ACK_WAIT_MS} * interval '1 millisecond'`)
          .length
          ? true
          : undefined,
      30_000,
      'the lease ran out long enough ago for the sweep',
    );
    await sleep(2 * ACK_WAIT_MS + 1000); // two sweeps at least (one every ACK_WAIT_MS)
    const [during] = await env.sql`select state from jobs where id = ${id}`;
    expect(during!.state).toBe('RUNNING');
  } finally {
    reopen();
  }
  const job = await eventually(
    async () => {
      const [row] = await env.sql`select state, attempts, error, dead_lettered_at from jobs where id = ${id}`;
      return row!.state === 'RUNNING' ? undefined : row;
    },
    40_000,
    'the job ends',
  );
  expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 1, error: null, dead_lettered_at: null });
  const dl = (await gql(api.url, `{ deadLetters(first: 10) { totalCount } }`)).body.data.deadLetters;
  expect(dl.totalCount).toBe(0);
}, 120_000);
