/**
 * A job deleted while it is watched, its end unseen: the API alone (no workers) on NATS through a proxy that
 * can cut its connection; the job is run and ended in PostgreSQL, where the API does not hear it, then purged.
 * Cutting the proxy then makes the API's watchers read what they missed.
 */
import { expect } from 'vitest';
import { markRunning, markSucceeded } from '../../src/db/transitions.js';
import { createTestEnv, startTestApp, type TestApp } from './app.js';
import { useFixture } from './fixture.js';
import { gql } from './graphql.js';
import { startTcpProxyFor } from './proxy.js';

const PURGE = `mutation { purgeJobs(input: { olderThanSeconds: 0 }) { purged userErrors { code } } }`;

/** The API alone, on NATS through a proxy (`proxy.cut()` drops its connection, which comes back). */
export const useApiWithNatsProxy = () =>
  useFixture(async (later) => {
    const env = await createTestEnv();
    later(() => env.dispose());
    const nats = await startTcpProxyFor(env.natsUrl);
    later(() => nats.proxy.close());
    const api = await startTestApp({ env, handlers: null, config: { NATS_URL: nats.url, RETENTION_INTERVAL_MS: '86400000' } });
    later(() => api.dispose());
    return { proxy: nats.proxy, api };
  });

/** Runs job `id` to SUCCEEDED where the API does not hear it (no update published), then purges it. */
export async function endUnheardAndPurge(api: TestApp, id: string): Promise<void> {
  const sql = api.app.deps.sql;
  const run = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 }))!;
  await markSucceeded(sql, { id, attempt: run.attempts, series: run.series, lastSeq: run.seq, result: null, progressMessage: null });
  expect((await gql(api.url, PURGE)).body.data.purgeJobs).toMatchObject({ purged: 1, userErrors: [] });
}
