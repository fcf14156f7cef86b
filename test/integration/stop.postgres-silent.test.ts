/**
 * An API process told to stop while PostgreSQL has gone silent (a network loss with no reset: a NAT or
 * firewall that dropped the flow): the outbox relay's and retention's passes under way wait on queries that
 * will never be answered. The stop leaves them behind after a bounded wait (each pass's work is idempotent:
 * a later one, in another process, does the rest) and ends, instead of holding the process until the
 * orchestrator kills it.
 */
import { afterAll, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';

let env: TestEnv | undefined;
let proxy: TcpProxy | undefined;
afterAll(async () => {
  await proxy?.close();
  await env?.dispose();
});

it('stops while PostgreSQL is silent, its passes under way left behind', async () => {
  env = await createTestEnv();
  const db = await startTcpProxyFor(env.databaseUrl);
  proxy = db.proxy;
  // Relay and retention passes every 200 ms: some are under way when the link goes silent.
  const t: TestApp = await startTestApp({ env, config: { DATABASE_URL: db.url, RETENTION_INTERVAL_MS: '200' } });
  await new Promise((r) => setTimeout(r, 1000));
  proxy.freeze();
  await new Promise((r) => setTimeout(r, 1000));
  const stopped = await Promise.race([
    t.app.stop().then(() => 'stopped'),
    new Promise((resolve) => setTimeout(() => resolve('still stopping'), 60_000)),
  ]);
  expect(stopped).toBe('stopped');
}, 90_000);
