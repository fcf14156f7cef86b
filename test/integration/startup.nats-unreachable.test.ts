/**
 * A process that cannot reach NATS at start-up exits 1 with one line that says so: NATS, at which address,
 * and why. (nats.js says only "connection refused" or "timeout", which named neither the service nor where.)
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { freePort } from '../setup/services.js';
import { runToExit } from '../support/processes.js';

let env: TestEnv;
/** Takes connections and says nothing, as a server that is not NATS (NATS_URL with another service's port). */
let silent: Server;
const sockets = new Set<Socket>();
beforeAll(async () => {
  env = await createTestEnv();
  silent = createServer((s) => void sockets.add(s));
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  silent?.close();
  await env?.dispose();
});

/** Runs a worker process (`npm run worker`'s entry) to its end: exit code and stderr. */
const runWorker = (natsUrl: string) => runToExit('workers/main.ts', { ...env.env, NATS_URL: natsUrl, METRICS_PORT: '0' });

it('names NATS and its address when nothing listens there', async () => {
  const port = await freePort();
  const r = await runWorker(`nats://127.0.0.1:${port}`);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`longrun worker: cannot connect to NATS at 127.0.0.1:${port}: connection refused\n`);
});

it('names NATS and its address when the server there does not answer as NATS', async () => {
  const { port } = silent.address() as { port: number };
  const r = await runWorker(`nats://127.0.0.1:${port}`);
  expect(r.code).toBe(1);
  expect(r.stderr).toBe(`longrun worker: cannot connect to NATS at 127.0.0.1:${port}: timeout\n`);
});
