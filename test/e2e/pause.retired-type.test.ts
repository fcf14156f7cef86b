/**
 * A job type paused and then removed from the code in a deploy: its row in `paused_job_types` stays. The next
 * API still shows the pause (the `longrun_job_type_paused` gauge at 1, `queueStats` and `longrun stats` with
 * it paused) and `resumeJobType` (`longrun resume`) clears it. Before, the gauge named only the types the
 * process defines, so the pause dropped out of it, queueStats listed it only while jobs of it were left, and
 * resumeJobType refused it as UNKNOWN_JOB_TYPE: it could be cleared only in SQL.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { createTestEnv, startTestApp, type TestApp } from '../support/app.js';
import { runCli } from '../support/cli.js';
import { gql } from '../support/graphql.js';
import { useFixture } from '../support/fixture.js';

const retired = ['reports.legacy', 'reports.older'].map((name) => defineJobType({ name, description: 'removed in the next deploy', payload: z.object({}) }));

const PAUSE = `mutation P($type: String!) { pauseJobType(type: $type) { jobType { name paused } userErrors { code field message } } }`;
const RESUME = `mutation R($type: String!) { resumeJobType(type: $type) { jobType { name paused } userErrors { code field message } } }`;
const STATS = `{ queueStats { type queued paused } jobTypes { name } }`;

const f = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  return { env };
});

const unknown = (type: string) => ({
  jobType: null,
  userErrors: [{ code: 'UNKNOWN_JOB_TYPE', field: ['type'], message: `this server has no job type "${type}"` }],
});
const pausedGauge = async (t: TestApp) => (await (await fetch(new URL('/metrics', t.url))).text()).split('\n').filter((l) => l.startsWith('longrun_job_type_paused{'));
const statsOf = async (t: TestApp) => (await gql(t.url, STATS)).body.data;

it('is shown by the next deploy, which resumes it; a type neither known nor paused is still refused', async () => {
  // The old deployment has the types; an admin pauses them before the deploy that removes them.
  const old = await startTestApp({ env: f.env, types: [...BUILTIN_JOB_TYPES, ...retired], handlers: null });
  try {
    for (const { name } of retired) expect((await gql(old.url, PAUSE, { type: name })).body.data.pauseJobType.userErrors).toEqual([]);
  } finally {
    await old.dispose();
  }

  const next = await startTestApp({ env: f.env, handlers: null });
  try {
    const cli = (...args: string[]) => runCli(next.url, next.key!, args);
    expect(await pausedGauge(next)).toEqual(
      expect.arrayContaining(['longrun_job_type_paused{type="reports.legacy"} 1', 'longrun_job_type_paused{type="reports.older"} 1', 'longrun_job_type_paused{type="demo.noop"} 0']),
    );
    const stats = await statsOf(next);
    expect(stats.jobTypes.map((t: { name: string }) => t.name)).not.toContain('reports.legacy');
    expect(stats.queueStats.filter((s: { type: string }) => s.type.startsWith('reports.'))).toEqual([
      { type: 'reports.legacy', queued: 0, paused: true },
      { type: 'reports.older', queued: 0, paused: true },
    ]);
    const row = (await cli('stats')).stdout.split('\n').find((l) => l.startsWith('reports.legacy\t'));
    expect(row?.split('\t')[9]).toBe('paused');

    // It cannot be paused again (no such type here), but it can be resumed, once.
    expect((await gql(next.url, PAUSE, { type: 'reports.legacy' })).body.data.pauseJobType).toEqual(unknown('reports.legacy'));
    expect((await gql(next.url, RESUME, { type: 'reports.legacy' })).body.data.resumeJobType).toEqual({ jobType: null, userErrors: [] });
    expect((await gql(next.url, RESUME, { type: 'reports.legacy' })).body.data.resumeJobType).toEqual(unknown('reports.legacy'));
    expect(await cli('resume', 'reports.older')).toMatchObject({ code: 0, stdout: 'resumed reports.older\n', stderr: '' });
    expect((await cli('resume', 'reports.older')).stderr).toContain('error UNKNOWN_JOB_TYPE type: this server has no job type "reports.older"');

    expect((await pausedGauge(next)).filter((l) => l.includes('reports.'))).toEqual([]);
    expect((await statsOf(next)).queueStats.filter((s: { type: string }) => s.type.startsWith('reports.'))).toEqual([]);
    expect(await f.env.sql`select type from paused_job_types`).toHaveLength(0);
  } finally {
    await next.dispose();
  }
});
