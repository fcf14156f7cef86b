// @module-tag faults
/**
 * Every NATS connection of the API and worker processes reset (TCP RST, ECONNRESET: a cut link, a load balancer
 * dropping flows) twice in the middle of 2,000 jobs, then silently lost once (a proxy stops forwarding without
 * closing anything: a NAT or firewall that dropped the flows; only the clients' pings find out), by a proxy
 * between them and nats-server, which stays up: publishes, pulls and acks under way fail or go unanswered; the
 * clients reconnect; every job succeeds once, the stream empties, and a watcher connected to the API across the
 * silent loss sees its job finish.
 */
import { expect, it } from 'vitest';
import { collect, gql, PROGRESS, SUBMIT, wsClient } from '../support/graphql.js';
import { submitLoad, untilJobs } from './load.js';
import { useProxiedFault } from './proxied.js';

const JOBS = Number(process.env.FAULT_JOBS ?? 2000);
const f = useProxiedFault('NATS_URL');

it('loses nothing when every NATS connection is reset twice and then silently lost once', async () => {
  const { api } = await f.start();
  const client = wsClient(api.url.replace(/^http/, 'ws'));
  let watched = '';
  let watching: ReturnType<typeof collect> | null = null;
  let lastFaultAt = 0;
  const faults: string[] = [];
  const fault = (async () => {
    for (const [share, kind] of [[0.2, 'reset'], [0.45, 'reset'], [0.7, 'silent']] as const) {
      await untilJobs(f.env.sql, JOBS * share);
      if (kind === 'silent') {
        // A job that runs across the silent loss, watched over graphql-ws (the socket to the API stays up).
        watched = (await gql(api.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 3000, steps: 3 } } })).body.data.submitJob.job.id;
        watching = collect(client, PROGRESS, { id: watched });
        await new Promise((r) => setTimeout(r, 200)); // subscribed
        f.proxy.freeze();
      } else f.proxy.reset();
      faults.push(kind);
      lastFaultAt = Date.now();
      await new Promise((r) => setTimeout(r, 1000));
    }
  })();
  const load = await submitLoad({ urls: () => [api.url], count: JOBS, concurrency: 25, payload: (i) => ({ ms: i % 5 }) });
  await fault;
  expect(faults).toEqual(['reset', 'reset', 'silent']);
  expect(load.accepted.size).toBe(JOBS);
  await f.expectEveryJobDone('nats-reset', load, lastFaultAt, 1); // and the watched job
  const { values, errors } = await watching!;
  await client.dispose();
  expect(errors).toEqual([]);
  expect(values.at(-1)).toMatchObject({ jobId: watched, state: 'SUCCEEDED' });
});
