// @module-tag faults
/**
 * nats-server restarted with an EMPTY store directory (its disk lost, or a new server in its place) while an
 * API process and a worker process run, neither of them restarted: every stream and consumer is gone, and the
 * message of a job QUEUED before with it. Both processes make their streams and consumers again once they find
 * them missing (a publish answered "no stream", a pull with no answer), so a job submitted afterwards runs, and
 * the reconciler re-publishes the QUEUED job's lost message at once (the stream is younger than the job's last
 * change), which runs too.
 */
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { names } from '../../src/messaging/names.js';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { spawnApi, spawnWorker, type LongrunProcess } from '../support/processes.js';
import { eventually } from '../support/streams.js';
import { startPrivateNats, type PrivateNats } from '../setup/services.js';

// The reconciler looks every tenth relay pass (2 s here). RECONCILE_AFTER_MS is its default (5 minutes): the
// jobs from before the stream was made again are checked at once all the same.
const CONFIG = { RELAY_INTERVAL_MS: '200', ACK_WAIT_MS: '5000', SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'warn' };
const PAUSE = /* GraphQL */ `mutation P($type: String!) { pauseJobType(type: $type) { userErrors { code } } }`;
const RESUME = /* GraphQL */ `mutation R($type: String!) { resumeJobType(type: $type) { userErrors { code } } }`;
/** Generous: a job's way back takes the reconciler's few seconds; this only bounds a hang. */
const FINISH_TIMEOUT_MS = 120_000;

let nats: PrivateNats;
let env: TestEnv;
let api: LongrunProcess | undefined;
let worker: LongrunProcess | undefined;
beforeAll(async () => {
  nats = await startPrivateNats();
  env = await createTestEnv({ natsUrl: nats.url });
  api = await spawnApi({ ...env.env, ...CONFIG });
  worker = await spawnWorker({ ...env.env, ...CONFIG });
});
afterAll(async () => {
  await worker?.kill('SIGTERM');
  await api?.kill('SIGTERM');
  await env?.dispose().catch(() => {});
  await nats?.dispose();
});

async function submit(url: string): Promise<string> {
  const r = await gql(url, SUBMIT, { input: { type: 'demo.noop', payload: {} } });
  expect(r.body.data?.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job.id as string;
}

/** Messages in the work-queue stream: published and not acked (null: the stream is not there). */
async function inStream(): Promise<number | null> {
  const nc = await connect({ servers: nats.url, maxReconnectAttempts: 0 });
  try {
    const info = await (await jetstreamManager(nc)).streams.info(names(env.prefix).jobsStream).catch(() => null);
    return info?.state.messages ?? null;
  } finally {
    await nc.close();
  }
}

it('a job QUEUED before the store was lost and one submitted after both succeed, longrun not restarted', async () => {
  const url = api!.url;
  // Held QUEUED, its message in the stream: its type is paused, so no worker pulls it.
  expect((await gql(url, PAUSE, { type: 'demo.noop' })).body.data.pauseJobType.userErrors).toEqual([]);
  const before = await submit(url);
  await eventually(async () => (await inStream()) === 1, 'the queued job’s message in the stream');
  expect(await waitForJob(url, before, () => true)).toMatchObject({ state: 'QUEUED' });

  await nats.stop();
  await rm(join(nats.dir, 'jetstream'), { recursive: true, force: true });
  await nats.start();

  expect((await gql(url, RESUME, { type: 'demo.noop' })).body.data.resumeJobType.userErrors).toEqual([]);
  const after = await submit(url);
  const finished = (j: { state: string }) => j.state === 'SUCCEEDED' || j.state === 'FAILED';
  expect(await waitForJob(url, after, finished, FINISH_TIMEOUT_MS)).toMatchObject({ state: 'SUCCEEDED' });
  expect(await waitForJob(url, before, finished, FINISH_TIMEOUT_MS)).toMatchObject({ state: 'SUCCEEDED' });
  expect(api!.child.exitCode).toBeNull();
  expect(worker!.child.exitCode).toBeNull();
});
