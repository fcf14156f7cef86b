/**
 * A job type removed (or renamed) in a deploy while jobs of it were still queued: they wait for a worker
 * that no longer comes. queueStats lists such a type with its counts, so the operator sees them (and can
 * cancel them, or bring a worker of that type back), instead of queueStats naming only the types this
 * server accepts and the waiting jobs showing nowhere.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { createTestEnv, startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';

const legacy = defineJobType({ name: 'reports.legacy', description: 'retired in the next deploy', payload: z.object({}) });
const STATS = `{ queueStats { type queued running retrying failed } jobTypes { name } }`;
const CANCEL = `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;

const f = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  return { env };
});

it('lists the queued jobs of a type the server no longer has, until they are cancelled', async () => {
  // The old deployment accepts two reports.legacy jobs; no worker runs them before the deploy.
  const old = await startTestApp({ env: f.env, types: [...BUILTIN_JOB_TYPES, legacy], handlers: null });
  const ids: string[] = [];
  try {
    for (let i = 0; i < 2; i++) ids.push((await gql(old.url, SUBMIT, { input: { type: 'reports.legacy', payload: {} } })).body.data.submitJob.job.id);
  } finally {
    await old.dispose();
  }

  const next = await startTestApp({ env: f.env, handlers: null });
  try {
    const stats = (await gql(next.url, STATS)).body.data;
    expect(stats.jobTypes.map((t: { name: string }) => t.name)).not.toContain('reports.legacy');
    expect(stats.queueStats.find((s: { type: string }) => s.type === 'reports.legacy')).toEqual({
      type: 'reports.legacy',
      queued: 2,
      running: 0,
      retrying: 0,
      failed: 0,
    });

    for (const id of ids) expect((await gql(next.url, CANCEL, { id })).body.data.cancelJob).toEqual({ job: { state: 'CANCELLED' }, userErrors: [] });
    const after = (await gql(next.url, STATS)).body.data.queueStats.map((s: { type: string }) => s.type);
    expect(after).not.toContain('reports.legacy');
  } finally {
    await next.dispose();
  }
});
