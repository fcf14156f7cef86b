/**
 * `npm start` probes DATABASE_URL (scripts/services.mjs) only to decide whether to start a private
 * PostgreSQL. It takes the URLs postgres.js takes: several hosts (`postgres://h1:5432,h2:5432/db`, tried in
 * turn), one of which answering is enough; and a URL it cannot probe (a Unix socket's) goes to the app as it
 * is. (Both ended `npm start` with a TypeError stack from `new URL`.) The machine's PostgreSQL answers at
 * TEST_DATABASE_ADMIN_URL's address.
 */
import { expect, it } from 'vitest';
import { ensurePostgres } from '../../scripts/services.mjs';
import { ADMIN_URL } from '../setup/global.js';
import { freePort } from '../setup/services.js';

it('takes a DATABASE_URL with several hosts, as reachable when one of them answers', async () => {
  const url = `postgres://postgres@127.0.0.1:${await freePort()},${new URL(ADMIN_URL).host}/longrun`;
  const env: Record<string, string> = { DATABASE_URL: url };
  await ensurePostgres(env);
  expect(env).toEqual({ DATABASE_URL: url });
});

it('hands a Unix socket DATABASE_URL to the app as it is', async () => {
  const url = 'postgres://postgres@/longrun?host=/var/run/postgresql';
  const env: Record<string, string> = { DATABASE_URL: url };
  await ensurePostgres(env);
  expect(env).toEqual({ DATABASE_URL: url });
});
