/**
 * A client gone without a close (a NAT or firewall dropped the connection, its machine went away) must not
 * hold its key's WebSocket slots for ever: the server pings every socket each WS_PING_INTERVAL_MS and drops
 * one that did not answer the last ping, so the key can connect again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, collect, gql, PROGRESS, SUBMIT, wsClient } from '../support/graphql.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';

let t: TestApp;
let proxy: TcpProxy;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { MAX_CONNECTIONS_PER_KEY: '2', WS_PING_INTERVAL_MS: '200' } });
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
});
afterAll(async () => {
  await proxy?.close();
  await t?.dispose();
});

const TYPES = '{ jobTypes { name } }';
const codeOf = (errors: unknown[]) => (errors[0] as { extensions?: { code?: string } } | undefined)?.extensions?.code ?? null;

it('drops sockets that stopped answering and gives their key its connection slots back', async () => {
  const key = { authorization: bearer((await t.createKey('silent')).key) };
  const job = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } }, key)).body.data.submitJob.job.id as string;
  const viaProxy = `ws://127.0.0.1:${proxy.port}/graphql`;
  const gone = [wsClient(viaProxy, key), wsClient(viaProxy, key)];
  // QUEUED, no workers: each subscription stays open once its first update (the snapshot) has come.
  const watching: Promise<unknown>[] = [];
  await Promise.all(gone.map((c) => new Promise((opened) => void watching.push(collect(c, PROGRESS, { id: job }, opened)))));
  try {
    // Two idle sockets that answer pings stay: a third is refused across several ping intervals.
    await new Promise((r) => setTimeout(r, 700));
    const third = wsClient(t.wsUrl, key);
    expect(codeOf((await collect(third, TYPES, {})).errors)).toBe('TOO_MANY_CONNECTIONS');
    await third.dispose();

    proxy.freeze(); // both connections die silently: nothing crosses them any more, and nothing closes them
    let last: string | null = 'not tried';
    for (let i = 0; i < 100 && last !== null; i++) {
      const c = wsClient(t.wsUrl, key);
      last = codeOf((await collect(c, TYPES, {})).errors);
      await c.dispose();
      if (last !== null) await new Promise((r) => setTimeout(r, 50));
    }
    expect(last).toBeNull(); // a slot was given back
  } finally {
    await Promise.all(gone.map((c) => c.dispose()));
    await Promise.allSettled(watching);
  }
});
