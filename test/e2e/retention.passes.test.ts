/**
 * Retention's timer runs one pass at a time per process: a pass longer than RETENTION_INTERVAL_MS (the first
 * pass after an upgrade, over every job already past its age) is not joined by another one each interval,
 * each holding a pool connection in its own transaction, and `stop()` waits for the pass that runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countRows, createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';

let env: TestEnv;
let t: TestApp | undefined;
beforeAll(async () => {
  env = await createTestEnv();
});
afterAll(async () => {
  await t?.dispose();
  await env?.dispose();
});

/** Sessions of the app inside a retention transaction (its last statement was the lock or the delete). */
const retentionSessions = async () =>
  (
    await env.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and pid <> pg_backend_pid()
        and state in ('active', 'idle in transaction')
        and (query like '%as "deadLetterSeq" from jobs%' or query like '%delete from job_events where job_id in%')`
  )[0]!.n;

describe('the retention timer', () => {
  it('runs one pass at a time, however long a pass takes, and stop() waits for it', async () => {
    const N = 40_000;
    await env.sql.unsafe(`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, attempts, seq, seq_reserved, created_at, updated_at, started_at, finished_at, progress)
      select gen_random_uuid(), 'o', 'demo.noop', 'SUCCEEDED', '{}', 1, 60000, 1, 4, 4, c, c, c, c, 100
      from (select now() - interval '40 days' - i * interval '1 second' as c from generate_series(1, ${N}) i) g`);

    t = await startTestApp({ env, handlers: null, config: { RETENTION_INTERVAL_MS: '100' } });
    let most = 0;
    const deadline = Date.now() + 45_000;
    while (Date.now() < deadline && (await countRows(env.sql, 'jobs')) > 0) {
      most = Math.max(most, await retentionSessions());
    }
    expect(await countRows(env.sql, 'jobs')).toBe(0);
    expect(most).toBe(1);

    // A pass under way when stop() is called has ended when it returns.
    await env.sql.unsafe(`
      insert into jobs (id, owner, type, state, payload, max_attempts, timeout_ms, attempts, seq, seq_reserved, created_at, updated_at, started_at, finished_at, progress)
      select gen_random_uuid(), 'o', 'demo.noop', 'SUCCEEDED', '{}', 1, 60000, 1, 4, 4, c, c, c, c, 100
      from (select now() - interval '40 days' as c from generate_series(1, ${N}) i) g`);
    while ((await retentionSessions()) === 0) await new Promise((r) => setTimeout(r, 5));
    await t.app.retention.stop();
    expect(await retentionSessions()).toBe(0);
  });
});
