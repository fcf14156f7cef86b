/**
 * Probes: /healthz answers while the process lives; /readyz follows NATS (a private nats-server this test
 * stops and starts again) and answers 503 once the app is draining.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { eventually } from '../support/receivers.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startPrivateNats, type PrivateNats } from '../setup/services.js';

let nats: PrivateNats;
let env: TestEnv;
let t: TestApp;
beforeAll(async () => {
  nats = await startPrivateNats();
  env = await createTestEnv({ natsUrl: nats.url });
  t = await startTestApp({ env, handlers: null });
});
afterAll(async () => {
  await t?.dispose();
  await env?.dispose();
  await nats?.dispose();
});

const probe = async (path: string) => {
  const res = await fetch(new URL(path, t.url));
  return { status: res.status, body: await res.json() };
};

describe('health and readiness', () => {
  it('/readyz flips to 503 while NATS is down and back to 200 when it returns; /healthz stays 200', async () => {
    expect(await probe('/readyz')).toEqual({ status: 200, body: { status: 'ready' } });
    expect(await probe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });

    await nats.stop();
    const down = await eventually(async () => {
      const p = await probe('/readyz');
      return p.status === 503 ? p : undefined;
    }, 20_000, '/readyz 503');
    expect(down.body).toEqual({ status: 'unavailable' });
    expect((await probe('/healthz')).status).toBe(200);

    // A job submitted meanwhile waits in the outbox: the backlog gauges show it.
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 1, steps: 1 } } });
    expect(r.body.data.submitJob.job.id).toBeTruthy();
    await eventually(async () => {
      const text = await (await fetch(new URL('/metrics', t.url))).text();
      return /^longrun_outbox_backlog 1$/m.test(text) && Number(/^longrun_outbox_oldest_age_seconds (\S+)$/m.exec(text)?.[1]) > 0;
    }, 20_000, 'outbox backlog 1');

    await nats.start();
    await eventually(async () => (await probe('/readyz')).status === 200, 30_000, '/readyz 200 again');
    await eventually(async () => /^longrun_outbox_backlog 0$/m.test(await (await fetch(new URL('/metrics', t.url))).text()), 30_000, 'outbox drained');
  });

  it('/readyz answers 503 "draining" once shutdown begins', async () => {
    t.app.http.setDraining();
    expect(await probe('/readyz')).toEqual({ status: 503, body: { status: 'draining' } });
    expect((await probe('/healthz')).status).toBe(200);
  });
});
