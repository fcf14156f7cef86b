/**
 * A process that cannot reach PostgreSQL at start-up exits 1 with one line that names PostgreSQL, where it
 * was looked for (no password) and why, as one that cannot reach NATS does. (The driver's own message,
 * `connect ECONNREFUSED 127.0.0.1:5432`, named neither the service nor the setting to fix.)
 */
import { expect, it } from 'vitest';
import { freePort } from '../setup/services.js';
import { runToExit } from '../support/processes.js';

it('names PostgreSQL and its address when nothing listens there', async () => {
  const port = await freePort();
  const { code, stderr } = await runToExit('workers/main.ts', { DATABASE_URL: `postgres://app:s3cret@127.0.0.1:${port}/longrun_nowhere`, METRICS_PORT: '0' });
  expect(code).toBe(1);
  expect(stderr).toBe(`longrun worker: cannot connect to PostgreSQL at 127.0.0.1:${port}: connect ECONNREFUSED 127.0.0.1:${port}\n`);
});
