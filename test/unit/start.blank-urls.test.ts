/**
 * `npm start` finds its services from DATABASE_URL and NATS_URL (scripts/services.mjs) before the app reads
 * its configuration. A value of blanks alone (`DATABASE_URL= ` in an env file) counts as unset there too, as
 * the README's Configuration says: the default address is used. (It used to end `npm start` with a
 * TypeError stack from `new URL(' ')`.) The machine's PostgreSQL and NATS are on their default ports here.
 */
import { expect, it } from 'vitest';
import { ensureNats, ensurePostgres } from '../../scripts/services.mjs';

it('takes a DATABASE_URL or NATS_URL of blanks as unset: the default address', async () => {
  const env: Record<string, string> = { DATABASE_URL: '   ', NATS_URL: ' \t' };
  await ensurePostgres(env);
  await ensureNats(env);
  // Reachable at the defaults: nothing replaced them with a private instance's address.
  expect(env).toEqual({ DATABASE_URL: '   ', NATS_URL: ' \t' });
});
