/**
 * PostgreSQL closing a connection under a running statement (a restart, a proxy or pooler cutting it): the
 * statement or transaction fails with CONNECTION_CLOSED, the process goes on, the pool serves the next query,
 * and `sql.end()` finishes. postgres.js 3.4.9 wrote a transaction's ROLLBACK to the closed connection from a
 * `setImmediate` and threw an uncaught TypeError, and its `end()` waited for ever for the failed statement
 * (scripts/patch-dependencies.mjs mends both at install). Child processes, so that an uncaught exception shows
 * as an exit status rather than in this test runner, and a hanging `end()` as the child being killed.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { ADMIN_URL } from '../setup/global.js';

const client = new URL('../../src/db/client.ts', import.meta.url).pathname;

/**
 * Runs `body` in a child process with `db` (a pool of `poolSize`), `other` (another pool) and `kill(pid)` (terminates
 * that backend through `other`); `body` answers the outcome of the statement it ran on the killed backend.
 * Answers what the child printed: that outcome, a query on the same pool afterwards, and that `sql.end()`
 * (without a timeout) finished.
 */
function afterBackendKilled(body: string, poolSize = 2): { status: number | null; stderr: string; printed: unknown } {
  const script = `
    import { createDb } from ${JSON.stringify(client)};
    const db = createDb(${JSON.stringify(ADMIN_URL)}, ${poolSize});
    const other = createDb(${JSON.stringify(ADMIN_URL)}, 1);
    const kill = (pid) => other.sql\`select pg_terminate_backend(\${pid})\`;
    const outcome = await (async () => { ${body} })();
    await new Promise((r) => setTimeout(r, 100)); // the driver's deferred writes have run
    const [{ one }] = await db.sql\`select 1 as one\`;
    await db.sql.end(); // no timeout: it must not wait for the failed statement
    await other.close();
    console.log(JSON.stringify({ outcome, one, ended: true }));`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stderr: r.stderr, printed: r.stdout.trim() ? JSON.parse(r.stdout.trim()) : null };
}

it('a transaction whose connection PostgreSQL closes fails with CONNECTION_CLOSED, and the process and pool go on', () => {
  const r = afterBackendKilled(`
    let pid = null;
    const tx = db.sql.begin(async (t) => {
      [{ pid }] = await t\`select pg_backend_pid() as pid\`;
      await t\`select pg_sleep(10)\`;
    });
    const outcome = tx.then(() => 'committed', (e) => e.code); // handled before the kill can reject it
    while (pid === null) await new Promise((r) => setTimeout(r, 10));
    await kill(pid);
    return outcome;`);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.printed).toEqual({ outcome: 'CONNECTION_CLOSED', one: 1, ended: true });
});

it('a statement whose connection PostgreSQL closes fails with CONNECTION_CLOSED, and the pool still ends', () => {
  const r = afterBackendKilled(`
    const slow = db.sql\`select pg_sleep(10) as the_slow_one\`.then(() => 'answered', (e) => e.code);
    let pid;
    while (!pid) [{ pid } = {}] = await other.sql\`select pid from pg_stat_activity where query like '%the_slow_one%' and pid <> pg_backend_pid()\`;
    await kill(pid);
    return slow;`);
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.printed).toEqual({ outcome: 'CONNECTION_CLOSED', one: 1, ended: true });
});

it('the statement after a killed one, on the connection that replaces it, is not failed with the killed one\'s error', () => {
  // A pool of one: the next statement reconnects the connection whose backend was killed. postgres.js 3.4.9
  // kept the killed backend's error (57P01) and failed the new connection's first statement with it
  // (porsager/postgres#1223): after a PostgreSQL restart, the first request on each such connection failed.
  const r = afterBackendKilled(
    `
    const slow = db.sql\`select pg_sleep(10) as the_lone_slow_one\`.then(() => 'answered', (e) => e.code);
    let pid;
    while (!pid) [{ pid } = {}] = await other.sql\`select pid from pg_stat_activity where query like '%the_lone_slow_one%' and pid <> pg_backend_pid()\`;
    await kill(pid);
    return slow;`,
    1,
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.printed).toEqual({ outcome: 'CONNECTION_CLOSED', one: 1, ended: true });
});
