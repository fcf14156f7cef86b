/**
 * The API's own NATS connection lost while jobs end elsewhere: a worker (on its own, working connection)
 * publishes their last updates while the API hears nothing. Once the API reconnects, its subscribers get
 * what they missed from PostgreSQL: `jobProgress` its job's end, `jobUpdates` (with and without `since`)
 * every change since before the loss, each once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Client } from 'graphql-ws';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { collect, gql, PROGRESS, SUBMIT, wsClient } from '../support/graphql.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
import { eventually } from '../support/receivers.js';

const UPDATES = /* GraphQL */ `
  subscription Updates($filter: JobUpdatesFilter, $since: DateTime) {
    jobUpdates(filter: $filter, since: $since) { jobId seq state at }
  }
`;

interface Seen {
  jobId: string;
  seq: number;
  state: string;
}

/** Runs until the test opens the gate: the jobs cannot end before the API is cut off, however slow the machine. */
const gated = defineJobType({ name: 'test.gated', description: 'runs until the test lets it end', payload: z.object({}) });
let openGate!: () => void;
const gate = new Promise<void>((r) => (openGate = r));
const gatedHandler = defineHandler(gated, async () => {
  await gate;
  return null;
});
const types = [...BUILTIN_JOB_TYPES, gated];

let env: TestEnv;
let proxy: TcpProxy;
/** API only, on NATS through the proxy. */
let api: TestApp;
/** Workers (and an API nobody calls), on NATS directly. */
let workers: TestApp;
beforeAll(async () => {
  env = await createTestEnv();
  const nats = await startTcpProxyFor(env.natsUrl);
  proxy = nats.proxy;
  workers = await startTestApp({ env, types, handlers: [...BUILTIN_HANDLERS, gatedHandler], config: { WORKER_CONCURRENCY: '10' } });
  api = await startTestApp({ env, types, handlers: null, config: { NATS_URL: nats.url } });
});
afterAll(async () => {
  openGate();
  await api?.dispose();
  await workers?.dispose();
  await proxy?.close();
  await env?.dispose();
});

/** Subscribes to `jobUpdates`; the updates arrive in the returned list until the client is disposed. */
function follow(client: Client, variables: Record<string, unknown>): { seen: Seen[]; errors: unknown[] } {
  const out = { seen: [] as Seen[], errors: [] as unknown[] };
  client.subscribe<{ jobUpdates: Seen }>(
    { query: UPDATES, variables },
    {
      next: (r) => (r.data ? out.seen.push(r.data.jobUpdates) : out.errors.push(r.errors)),
      error: (e) => out.errors.push(e),
      complete: () => {},
    },
  );
  return out;
}

const states = (seen: Seen[], id: string) => seen.filter((u) => u.jobId === id).map((u) => u.state);

it('replays to every subscriber what NATS lost while the API was cut off', async () => {
  const client = wsClient(api.wsUrl);
  const live = follow(client, { filter: { types: ['test.gated'] } });
  const resumable = follow(client, { filter: { types: ['test.gated'] }, since: new Date().toISOString() });
  await eventually(() => api.app.hub.listenerCount === 2, 30_000, 'both subscriptions to listen');

  const ids: string[] = [];
  for (let i = 0; i < 3; i++) {
    const r = await gql(api.url, SUBMIT, { input: { type: 'test.gated', payload: {} } });
    ids.push(r.body.data.submitJob.job.id);
  }
  const watched = collect<Seen>(client, PROGRESS, { id: ids[0] });
  await eventually(() => ids.every((id) => states(live.seen, id).includes('RUNNING')), 30_000, 'every job RUNNING, seen live');

  const release = proxy.hold();
  openGate();
  await eventually(
    async () => (await env.sql`select count(*)::int as n from jobs where id = any(${ids}) and state = 'SUCCEEDED'`)[0]!.n === 3,
    30_000,
    'the jobs to succeed while the API is cut off',
  );
  expect(states(live.seen, ids[0]!)).not.toContain('SUCCEEDED'); // it really was missed
  release();

  for (const sub of [live, resumable]) {
    await eventually(() => ids.every((id) => states(sub.seen, id).includes('SUCCEEDED')), 30_000, 'each job’s SUCCEEDED after the reconnect');
    expect(sub.errors).toEqual([]);
    for (const id of ids) {
      const seqs = sub.seen.filter((u) => u.jobId === id).map((u) => u.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(new Set(seqs).size).toBe(seqs.length); // nothing twice
    }
  }
  const progress = await watched;
  expect(progress.errors).toEqual([]);
  expect(progress.values.at(-1)).toMatchObject({ jobId: ids[0], state: 'SUCCEEDED' });
  await client.dispose();
});
