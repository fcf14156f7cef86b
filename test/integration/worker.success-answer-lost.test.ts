/**
 * A worker writes an attempt's success, PostgreSQL commits it, and the connection drops before the answer
 * reaches the worker. Its retried write is refused by that very write (the job is SUCCEEDED already), so the
 * worker never published the SUCCEEDED update nor acked the message. Watchers must still hear of the end: the
 * message, redelivered after AckWait, finds the job finished and publishes its final update before it is acked.
 *
 * The workers reach PostgreSQL through a proxy that delays what PostgreSQL sends them by 1.5 s, so the test
 * sees the committed SUCCEEDED while its answer is still on the way, and cuts the connection then.
 */
import { expect, it } from 'vitest';
import { useProxiedApps } from '../support/app.js';
import { collect, gql, PROGRESS, SUBMIT, wsClient } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';

const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { handlers: null, config: { ACK_WAIT_MS: '6000' } },
  proxied: { handlers: BUILTIN_HANDLERS, config: { ACK_WAIT_MS: '6000', WORKER_CONCURRENCY: '1' } },
});

it('a success whose write lost its answer still reaches the job’s watchers', async () => {
  const { env, proxy, direct: api } = f;
  proxy.slow(1500);
  const id = (await gql(api.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const client = wsClient(api.wsUrl);
  const seen: { state: string }[] = [];
  const watched = collect<{ state: string }>(client, PROGRESS, { id }, (u) => seen.push(u));
  try {
    await eventually(
      async () => ((await env.sql`select 1 from jobs where id = ${id} and state = 'SUCCEEDED'`).length ? true : undefined),
      20_000,
      'the SUCCEEDED write committed',
    );
    proxy.cut();
    proxy.slow(0);
    await eventually(async () => (seen.some((u) => u.state === 'SUCCEEDED') ? true : undefined), 30_000, 'the watcher hears SUCCEEDED');
    const { values, errors } = await watched; // the subscription ends after the job's end
    expect(errors).toEqual([]);
    expect(values.at(-1)?.state).toBe('SUCCEEDED');
  } finally {
    await client.dispose();
  }
});
