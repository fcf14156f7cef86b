/**
 * `longrun watch <id>` of a job deleted while it was watched (it ended and was purged while the API's NATS
 * connection was down): the server ends the watch with nothing more to send, and the CLI says the job is not
 * found (exit 3) instead of printing nothing more and exiting 0, whether it had printed updates (the job
 * QUEUED) or none (`--after` its last seq).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { markRunning, markSucceeded } from '../../src/db/transitions.js';
import { createTestEnv, startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { gql, JOB, SUBMIT } from '../support/graphql.js';
import { startTcpProxyFor } from '../support/proxy.js';
import { eventually } from '../support/receivers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/longrun.mjs');
const PURGE = `mutation { purgeJobs(input: { olderThanSeconds: 0 }) { purged userErrors { code } } }`;

/** The API alone (no workers), on NATS through a proxy that can cut its connection. */
const fixture = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  const nats = await startTcpProxyFor(env.natsUrl);
  later(() => nats.proxy.close());
  const api = await startTestApp({ env, handlers: null, config: { NATS_URL: nats.url, RETENTION_INTERVAL_MS: '86400000' } });
  later(() => api.dispose());
  return { proxy: nats.proxy, api };
});

/** The CLI run to its end; `printed` reads its stdout so far. */
function longrunWatched(args: string[]): { printed(): string; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const { api } = fixture;
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LONGRUN_URL: api.url, LONGRUN_TOKEN: api.key ?? '', NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { printed: () => stdout, done: new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))) };
}
const longrun = (args: string[]) => longrunWatched(args).done;

/** The job runs and ends where the API does not hear it (its updates would be missed while NATS is down), then is purged. */
async function endUnheardAndPurge(id: string): Promise<void> {
  const sql = fixture.api.app.deps.sql;
  const run = (await markRunning(sql, { id, series: 1, leaseMs: 60_000, msgSeq: 1 }))!;
  await markSucceeded(sql, { id, attempt: run.attempts, series: run.series, lastSeq: run.seq, result: null, progressMessage: null });
  expect((await gql(fixture.api.url, PURGE)).body.data.purgeJobs).toMatchObject({ purged: 1, userErrors: [] });
}

it.each(['lines', 'json'])('watch --after the last seq of a job deleted while watched says it is not found, exit 3 (%s)', async (output) => {
  const { api, proxy } = fixture;
  const flags = output === 'json' ? ['--json'] : [];
  const id = (await gql(api.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const lastSeq = (await gql(api.url, JOB, { id })).body.data.job.events.at(-1).seq as number;
  const listeners = api.app.hub.listenerCount;
  const watched = longrun(['watch', id, '--after', String(lastSeq), ...flags]);
  await eventually(() => api.app.hub.listenerCount > listeners, 10_000, 'the watch to be listening');

  // The API's NATS connection drops and comes back, and its watchers read what they missed.
  await endUnheardAndPurge(id);
  proxy.cut();

  const r = await watched;
  expect(r.stdout).toBe('');
  expect(r.stderr.trim()).toBe('longrun: NOT_FOUND: job not found (deleted while it was watched)');
  expect(r.code).toBe(3);
});

it.each(['lines', 'json'])('watch of a job deleted after it printed updates, its end unseen, says it is not found, exit 3 (%s)', async (output) => {
  const { api, proxy } = fixture;
  const flags = output === 'json' ? ['--json'] : [];
  const id = (await gql(api.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const watched = longrunWatched(['watch', id, ...flags]);
  await eventually(() => watched.printed().includes('QUEUED'), 10_000, 'the watch to print the job QUEUED');

  await endUnheardAndPurge(id);
  proxy.cut();

  const r = await watched.done;
  expect(r.stdout.trim().split('\n')).toHaveLength(1); // the QUEUED it saw; no result, error or cancelled
  expect(r.stderr.trim()).toBe('longrun: NOT_FOUND: job not found (deleted while it was watched)');
  expect(r.code).toBe(3);
});
