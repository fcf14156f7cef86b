// @module-tag faults
/**
 * The SDK's `watchJob` across a PostgreSQL outage: its connection drops while the database is down, and the
 * server answers the resubscription SERVICE_UNAVAILABLE (it cannot check the key or read the job). The
 * watch tries again, as after a lost connection, and ends with the job's SUCCEEDED once PostgreSQL is back,
 * instead of throwing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, type JobUpdate } from '../../sdk/index.js';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { useEnvOnPrivatePostgres } from '../support/private-postgres-env.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';
import { sdkFor } from '../support/sdk.js';

const services = useEnvOnPrivatePostgres();
let t: TestApp;
let proxy: TcpProxy;
beforeAll(async () => {
  t = await startTestApp({ env: services.env, log: createLogger('silent') });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
});
afterAll(async () => {
  await proxy?.close();
  await t?.dispose();
});

it('watchJob waits out SERVICE_UNAVAILABLE and sees the job end', async () => {
  const direct = sdkFor(t);
  const client = createClient({ url: t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: t.key!, reconnectDelayMs: 100 });
  try {
    const { job } = await direct.submitJob({ type: 'demo.sleep', payload: { ms: 3000, steps: 3 } });
    const watch = client.watchJob(job!.id);
    const seen: JobUpdate[] = [(await watch.next()).value as JobUpdate];

    await services.pg.stop();
    proxy.cut(); // the watch reconnects while PostgreSQL is down: each try is answered SERVICE_UNAVAILABLE
    const rest = (async () => {
      for (let r = await watch.next(); !r.done; r = await watch.next()) seen.push(r.value);
    })();
    rest.catch(() => {}); // awaited below
    await new Promise((r) => setTimeout(r, 2000)); // an outage of a few tries (100, 200, 400, 800 ms apart)
    await services.pg.start();

    await rest;
    expect(seen.at(-1)).toMatchObject({ jobId: job!.id, state: 'SUCCEEDED' });
    const seqs = seen.map((u) => u.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  } finally {
    await client.close();
    await direct.close();
  }
});
