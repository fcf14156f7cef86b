/**
 * What every process does first (`ensureDatabase`, `migrateDatabase`: the API, a worker, `longrun keys`):
 * on a fresh install, several of them starting at once all get the database, created once and migrated once;
 * a database that exists is used as it is, by a role that may connect to it alone; a migration that fails
 * says why, in one line.
 */
import postgres from 'postgres';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runKeysCommand } from '../../src/auth/keys-cli.js';
import { ADMIN_URL } from '../setup/global.js';
import { freePort, startPrivatePostgres } from '../setup/services.js';
import { useFixture } from '../support/fixture.js';
import { runToExit } from '../support/processes.js';

const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const fresh: string[] = [];
afterAll(async () => {
  for (const name of fresh) await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
});

/** `longrun keys <argv>` against `databaseUrl`: its exit code and what it printed. */
async function keysCommand(databaseUrl: string, ...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeysCommand(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, { DATABASE_URL: databaseUrl });
  return { code, out, err };
}

it('several processes starting at once on a database not yet created all start, with it created and migrated once', async () => {
  const name = `lr_fresh_${inject('runId')}_race`;
  fresh.push(name);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  // Four at once, as an API and its workers started together by a deployment: each finds no database and
  // creates it. PostgreSQL refuses all but one CREATE DATABASE, and not always as "already exists" (42P04).
  const runs = await Promise.all([1, 2, 3, 4].map(() => keysCommand(url.toString(), 'list')));
  expect(runs.map((r) => r.err.join('\n'))).toEqual(['', '', '', '']);
  expect(runs.map((r) => r.code)).toEqual([0, 0, 0, 0]);
  const created = await keysCommand(url.toString(), 'create', '--owner', 'ops');
  expect(created.code).toBe(0);
});

// postgres.js tries the hosts of `postgres://h1:5432,h2:5432/db` in turn (a primary and its standby); the
// database's creation read the URL with `URL`, which refuses such a list: the start failed with "Invalid URL".
it('a DATABASE_URL with several hosts is created and migrated through the one that answers', async () => {
  const name = `lr_fresh_${inject('runId')}_hosts`;
  fresh.push(name);
  const url = new URL(ADMIN_URL);
  const hosts = `127.0.0.1:${await freePort()},${url.host}`;
  const created = await keysCommand(`${url.protocol}//${url.username}@${hosts}/${name}`, 'create', '--owner', 'ops');
  expect(created.err).toEqual([]);
  expect(created.code).toBe(0);
  const [row] = await admin`select count(*)::int as n from pg_database where datname = ${name}`;
  expect(row).toEqual({ n: 1 });
});

// postgres.js reads no `?host=` (a Unix socket as libpq writes it), and `URL` refuses a user without a host:
// the start said "Invalid URL" alone, naming neither the setting nor what is read.
it('a DATABASE_URL the driver cannot read stops the start with one line naming it and the forms that are read', async () => {
  const { code, stderr } = await runToExit('workers/main.ts', {
    DATABASE_URL: 'postgres://postgres@/longrun?host=/var/run/postgresql',
    METRICS_PORT: '0',
    LOG_LEVEL: 'warn',
  });
  expect(code).toBe(1);
  expect(stderr).toMatch(/^longrun worker: DATABASE_URL is not a URL the PostgreSQL driver reads: [^\n]*PGHOST[^\n]*\n$/);
});

// postgres.js decodes the user and password with decodeURIComponent, which throws a URIError ("URI malformed",
// naming no setting) at a `%` not followed by two hex digits: a password pasted without encoding it.
it('a DATABASE_URL whose password is not percent-encoded stops the start with one line naming it, not the password', async () => {
  const url = new URL(ADMIN_URL);
  const keys = await keysCommand(`postgres://postgres:100%zz@${url.host}/longrun`, 'list');
  expect(keys.code).toBe(1);
  expect(keys.err).toHaveLength(1);
  expect(keys.err[0]).toMatch(/^longrun keys: DATABASE_URL is not a URL the PostgreSQL driver reads: /);
  expect(keys.err[0]).not.toContain('100%zz');
});

describe('roles with fewer rights than a superuser (on a private server: who may connect to what is not for the shared one)', () => {
  const s = useFixture(async (later) => {
    const pg = await startPrivatePostgres();
    later(() => pg.dispose());
    const sql = postgres(pg.url(), { max: 1, onnotice: () => {} });
    try {
      await sql`create role app login`;
      await sql`create database appdb owner app`;
      await sql`revoke connect on database postgres from public`;
      // A role that may connect to a database but not create anything in it (not its owner).
      await sql`create role guest login`;
      await sql`create database otherdb`;
    } finally {
      await sql.end();
    }
    return { url: pg.url('appdb').replace('postgres@', 'app@'), guestUrl: pg.url('otherdb').replace('postgres@', 'guest@') };
  });

  // Common in production: pg_hba.conf, a managed service or a connection pooler (PgBouncer) lets the
  // application's role reach its database and nothing else, the `postgres` database included.
  it('a role that may connect to its own database only starts on it, migrating it', async () => {
    const created = await keysCommand(s.url, 'create', '--owner', 'ops');
    expect(created.err).toEqual([]);
    expect(created.code).toBe(0);
    const listed = await keysCommand(s.url, 'list');
    expect(listed.out).toHaveLength(1);
    expect(listed.out[0]).toContain('\tops\t');
  });

  it('a migration that fails stops a process with PostgreSQL\'s reason on one line, not the statement alone', async () => {
    const keys = await keysCommand(s.guestUrl, 'list');
    expect(keys.code).toBe(1);
    expect(keys.err).toHaveLength(1);
    expect(keys.err[0]).toMatch(/^longrun keys: [^\n]*permission denied for database otherdb[^\n]*$/);

    const { code, stderr } = await runToExit('workers/main.ts', { DATABASE_URL: s.guestUrl, METRICS_PORT: '0', LOG_LEVEL: 'warn' });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^longrun worker: [^\n]*permission denied for database otherdb[^\n]*\n$/);
  });
});
