/**
 * A watch hears the end of a job that ends just after the watch has read it, however slow the API's link to
 * NATS: the server has the watch's subscription before PostgreSQL is read. Here what the API sends NATS
 * arrives 3 s late (its SUB among it), and the job is ended as soon as the watch has its first update: in
 * PostgreSQL, its update published on a connection of its own, as a worker does. Before, the read came at
 * once, the update went out before the server had the API's SUB, and the watch waited for ever.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import type { JobUpdate, LongrunClient } from '../../sdk/index.js';
import { markRunning, markSucceeded } from '../../src/db/transitions.js';
import { publishUpdate, updateFromJob } from '../../src/progress/updates.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { sdkFor } from '../support/sdk.js';
import { useApiOnProxiedNats, within } from '../support/sdk-updates.js';

/** How late what the API sends NATS arrives while a watch opens. */
const LINK_DELAY_MS = 3_000;

const f = useApiOnProxiedNats();
let sdk: LongrunClient;
/** A worker's own connection to NATS (not through the proxy). */
let worker: NatsConnection;
beforeAll(async () => {
  sdk = sdkFor(f.t);
  worker = await connect({ servers: f.env.natsUrl });
});
afterAll(async () => {
  f.nats.slowUpstream(0);
  await sdk?.close();
  await worker?.close();
});

const submit = async () => (await gql(f.t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;

/** Ends job `id` as a worker does: SUCCEEDED in PostgreSQL, then its update published once that committed. */
async function endJob(id: string): Promise<void> {
  const sql = f.t.app.deps.sql;
  const run = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 }))!;
  const done = (await markSucceeded(sql, { id, attempt: run.attempts, series: run.series, lastSeq: run.seq, result: null, progressMessage: null }))!;
  publishUpdate(worker, f.t.app.deps.names, updateFromJob(done));
  await worker.flush(); // the server has it
}

/**
 * Opens `updates` while the API's link to NATS is slow, ends the job once the first update (QUEUED, read from
 * PostgreSQL) came, and answers the update that follows, or fails 10 s after what the API sent NATS arrived.
 */
async function updateAfterEnd(id: string, updates: AsyncIterator<JobUpdate>): Promise<JobUpdate> {
  const first = await within(updates.next(), LINK_DELAY_MS + 10_000, 'first update');
  expect(first.value).toMatchObject({ jobId: id, state: 'QUEUED' });
  await endJob(id);
  f.nats.slowUpstream(0);
  const next = await within(updates.next(), LINK_DELAY_MS + 10_000, "update of the job's end");
  return next.value as JobUpdate;
}

it('watchJob hears the end of a job that ends just after the watch opened', async () => {
  const id = await submit();
  f.nats.slowUpstream(LINK_DELAY_MS);
  const stop = new AbortController(); // ends a next() still waiting (return() would wait behind it)
  try {
    const watch = sdk.watchJob(id, { signal: stop.signal });
    expect(await updateAfterEnd(id, watch)).toMatchObject({ jobId: id, state: 'SUCCEEDED' });
  } finally {
    f.nats.slowUpstream(0);
    stop.abort();
  }
});

it('jobUpdates with since hears the end of a job that ends just after its replay was read', async () => {
  const since = new Date().toISOString();
  const id = await submit();
  f.nats.slowUpstream(LINK_DELAY_MS);
  const stop = new AbortController();
  try {
    const updates = sdk.jobUpdates({ ids: [id] }, { since, signal: stop.signal });
    expect(await updateAfterEnd(id, updates)).toMatchObject({ jobId: id, state: 'SUCCEEDED' });
  } finally {
    f.nats.slowUpstream(0);
    stop.abort();
  }
});
