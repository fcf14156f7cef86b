/**
 * PostgreSQL closing a connection under a running statement (a restart, a proxy or pooler cutting it): the
 * statement or transaction fails with CONNECTION_CLOSED, the process goes on, the pool serves the next query,
 * and `sql.end()` finishes. postgres.js 3.4.9 wrote a transaction's ROLLBACK to the closed connection from a
 * `setImmediate` and threw an uncaught TypeError, and its `end()` waited for ever for the failed statement
 * (scripts/patch-dependencies.mjs mends both at install, and the three cases after them: an error, a statement
 * or a transaction's later statements carried over from a closed connection to the one that replaces it; and
 * a statement on a link gone silent, which got no timeout).
 * Child processes, so that an uncaught exception shows
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

const proxyModule = new URL('../support/proxy.ts', import.meta.url).pathname;

/**
 * For a child script (in its body): `target` (ADMIN_URL through `proxy`, test/support/proxy.ts, whose
 * `reset()` resets every connection through it: the client gets ECONNRESET).
 */
const RESETTING_PROXY = `
    const { startTcpProxyFor } = await import(${JSON.stringify(proxyModule)});
    const { proxy, url } = await startTcpProxyFor(${JSON.stringify(ADMIN_URL)});
    const target = new URL(url);`;

it('a transaction whose connection is reset leaves no statement behind for the next connection: the pool keeps answering', () => {
  // A pool of one behind a proxy that resets the connection (as a failover or a cut link does) while the
  // transaction waits: postgres.js 3.4.9 queued the transaction's ROLLBACK on the broken connection and kept
  // it, and the connection that replaced it waited for its answer: one statement went through, and every one
  // after it waited for ever.
  const script = `
    import { createDb } from ${JSON.stringify(client)};
    ${RESETTING_PROXY}
    const db = createDb(target.href, 1);
    let begun = false;
    const tx = db.sql.begin(async (t) => { begun = true; await t\`select pg_sleep(10)\`; }).then(() => 'committed', (e) => e.code);
    while (!begun) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100)); // the sleep is running
    proxy.reset();
    const outcome = await tx;
    const answers = [];
    const within = (p) => Promise.race([p, new Promise((r) => setTimeout(() => r('no answer in 5 s'), 5000))]);
    for (let i = 1; i <= 3; i++) answers.push(await within(db.sql\`select \${i}::int as i\`.then(([r]) => r.i, (e) => e.code)));
    answers.push(await within(db.sql.begin((t) => t\`select 'in a transaction' as x\`).then(([r]) => r.x, (e) => e.code)));
    console.log(JSON.stringify({ outcome, answers }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 40_000 });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout.trim())).toEqual({ outcome: 'CONNECTION_CLOSED', answers: [1, 2, 3, 'in a transaction'] });
});

it("a transaction's statements after its connection was lost fail, and none is committed on the connection that replaced it", () => {
  // The transaction's callback goes on after its backend is killed (it was awaiting something else); a plain
  // statement meanwhile reconnects the pool's one connection. postgres.js 3.4.9 ran the callback's later
  // statements on that new connection, outside any transaction: they were committed, one by one, although
  // the transaction failed (porsager/postgres#1216).
  const table = `tx_probe_${process.pid}`;
  const r = afterBackendKilled(
    `
    await other.sql\`create table ${table} (x text)\`;
    let pid = null;
    const later = [];
    const tx = db.sql.begin(async (t) => {
      [{ pid }] = await t\`select pg_backend_pid() as pid\`;
      await t\`insert into ${table} values ('before')\`;
      await new Promise((r) => setTimeout(r, 600)); // other work inside the transaction
      for (const x of ['after 1', 'after 2']) later.push(await t\`insert into ${table} values (\${x})\`.then(() => 'inserted', (e) => e.code));
    }).then(() => 'committed', (e) => e.code);
    while (pid === null) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 100));
    await kill(pid);
    await new Promise((r) => setTimeout(r, 100));
    const [{ one: between }] = await db.sql\`select 1 as one\`; // reconnects the pool's connection
    const outcome = await tx;
    await new Promise((r) => setTimeout(r, 1000)); // the callback's later statements have run
    const rows = (await other.sql\`select x from ${table}\`).map((r) => r.x);
    await other.sql\`drop table ${table}\`;
    return { tx: outcome, between, later, rows };`,
    1,
  );
  expect(r.stderr).toBe('');
  expect(r.status).toBe(0);
  expect(r.printed).toEqual({
    outcome: { tx: 'CONNECTION_CLOSED', between: 1, later: ['CONNECTION_CLOSED', 'CONNECTION_CLOSED'], rows: [] },
    one: 1,
    ended: true,
  });
});

it('a statement sent on a reset connection between its error and its close fails, instead of never being answered', () => {
  // Node emits a reset socket's 'error' and its 'close' in different turns of the event loop; meanwhile the
  // idle connection is still in the pool's open queue and takes the next statement. postgres.js 3.4.9 (with
  // the mend that forgets a closed connection's failed query) dropped that statement: its caller waited for
  // ever (an API's grouped insert, and every submit queued behind it). The socket is made here so that the
  // statement can be sent in that gap: from a setImmediate after the error.
  const script = `
    import net from 'node:net';
    import postgres from 'postgres';
    import { pgOptions } from ${JSON.stringify(client)};
    ${RESETTING_PROXY}
    let inGap = null;
    const socket = () => new Promise((resolve, reject) => {
      const s = net.connect(proxy.port, '127.0.0.1');
      s.once('connect', () => resolve(s));
      s.once('error', (e) => {
        reject(e);
        inGap ??= new Promise((r) => setImmediate(() => r(sql\`select 'sent in the gap' as x\`.then(([row]) => row.x, (e) => e.code))));
      });
    });
    const sql = postgres(target.href, { ...pgOptions(1), socket });
    await sql\`select 1\`;
    proxy.reset();
    while (!inGap) await new Promise((r) => setTimeout(r, 5));
    const gap = await Promise.race([inGap, new Promise((r) => setTimeout(() => r('no answer in 5 s'), 5000))]);
    const [{ x: after }] = await sql\`select 'after' as x\`;
    console.log(JSON.stringify({ gap, after }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 40_000 });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout.trim())).toEqual({ gap: 'CONNECTION_CLOSED', after: 'after' });
});

it('a statement on a connection gone silent fails after the silence timeout, and the pool reconnects, instead of waiting for ever', () => {
  // A pool of one behind a proxy that stops forwarding without closing anything (a NAT or firewall that
  // dropped the flow: no reset reaches either side). postgres.js 3.4.9 waited for the answer for ever here,
  // and over a real network until TCP gave up (minutes); the silence_timeout mend closes such a connection
  // once its statements have had no answer for that long (1 s here), and fails them at once, so the next
  // statement goes to a new connection. A statement answered within it is not cut.
  const script = `
    import { createDb } from ${JSON.stringify(client)};
    ${RESETTING_PROXY}
    const db = createDb(target.href, 1, 1000);
    const within = (p) => Promise.race([p, new Promise((r) => setTimeout(() => r('no answer in 5 s'), 5000))]);
    const answered = await within(db.sql\`select pg_sleep(0.5), 'answered' as x\`.then(([r]) => r.x, (e) => e.code));
    proxy.freeze();
    const silent = await within(db.sql\`select 'through the silent link' as x\`.then(([r]) => r.x, (e) => e.code));
    const after = await within(db.sql\`select 'after' as x\`.then(([r]) => r.x, (e) => e.code));
    console.log(JSON.stringify({ answered, silent, after }));
    process.exit(0);`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 40_000 });
  expect(r.stderr).toBe('');
  expect(JSON.parse(r.stdout.trim())).toEqual({ answered: 'answered', silent: 'CONNECTION_CLOSED', after: 'after' });
});
