/**
 * PostgreSQL closing a connection while a transaction runs on it (a restart, a proxy or pooler cutting it):
 * the transaction fails with CONNECTION_CLOSED, the process goes on, and the pool serves the next query.
 * postgres.js 3.4.9 wrote the transaction's ROLLBACK to the closed connection from a `setImmediate` and threw
 * an uncaught TypeError (scripts/patch-dependencies.mjs mends it at install). A child process, so that an
 * uncaught exception shows as its exit status rather than in this test runner.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { ADMIN_URL } from '../setup/global.js';

const client = new URL('../../src/db/client.ts', import.meta.url).pathname;

it('a transaction whose connection PostgreSQL closes fails with CONNECTION_CLOSED, and the process and pool go on', () => {
  const script = `
    import { createDb } from ${JSON.stringify(client)};
    const url = ${JSON.stringify(ADMIN_URL)};
    const db = createDb(url, 2);
    const other = createDb(url, 1);
    let pid = null;
    const tx = db.sql.begin(async (t) => {
      [{ pid }] = await t\`select pg_backend_pid() as pid\`;
      await t\`select pg_sleep(5)\`;
    });
    while (pid === null) await new Promise((r) => setTimeout(r, 10));
    await other.sql\`select pg_terminate_backend(\${pid})\`;
    const outcome = await tx.then(() => 'committed', (e) => e.code);
    await new Promise((r) => setTimeout(r, 100)); // the driver's deferred writes have run
    const [{ one }] = await db.sql\`select 1 as one\`;
    console.log(JSON.stringify({ outcome, one }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 });
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(JSON.parse(r.stdout.trim())).toEqual({ outcome: 'CONNECTION_CLOSED', one: 1 });
});
