/**
 * A connection that dies silently (a NAT or firewall drops the flow, a laptop sleeps, the peer vanishes
 * without a FIN or RST) gives a WebSocket client no close event at all. The SDK pings the server over
 * graphql-ws and takes a ping left unanswered for `keepAliveMs` as a lost connection: `watchJob` and
 * `jobUpdates` reconnect and resume as after any other loss, instead of waiting for ever. And `close()` ends
 * them with CLOSED at once then too, not once the socket's closing handshake, never answered, gives up (30 s).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, type JobUpdate } from '../../sdk/index.js';
import { useAppWithWorkerSwitch } from '../support/app.js';
import { startTcpProxy, type TcpProxy } from '../support/proxy.js';
import { sdkFor } from '../support/sdk.js';
import { within } from '../support/sdk-updates.js';

const s = useAppWithWorkerSwitch();
let proxy: TcpProxy;
beforeAll(async () => {
  proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(s.t.url).port) });
});
afterAll(async () => {
  await proxy?.close();
});

it('watchJob and jobUpdates carry on after the connection silently stops carrying anything', async () => {
  const direct = sdkFor(s.t);
  const client = createClient({
    url: s.t.url,
    wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`,
    token: s.t.key!,
    reconnectDelayMs: 50,
    keepAliveMs: 300,
  });
  try {
    const { job } = await direct.submitJob({ type: 'demo.sleep', payload: { ms: 300, steps: 3 } }); // held QUEUED: workers off
    const watch = client.watchJob(job!.id);
    const updates = client.jobUpdates({ ids: [job!.id] });
    const pendingUpdate = updates.next(); // subscribes; the first update comes once the job runs
    const first = await within(watch.next(), 10_000, 'first update');
    expect(first.value).toMatchObject({ state: 'QUEUED' });
    const accepted = proxy.accepted;

    proxy.freeze(); // from here nothing crosses the old connection, and it is never closed
    await s.workers.start();

    const seen: JobUpdate[] = [first.value as JobUpdate];
    const rest = (async () => {
      for (let r = await watch.next(); !r.done; r = await watch.next()) seen.push(r.value);
    })();
    await within(rest, 20_000, 'end of watchJob');
    expect(seen.at(-1)).toMatchObject({ state: 'SUCCEEDED' });
    const seqs = seen.map((u) => u.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));

    const viaUpdates: JobUpdate[] = [];
    for (let r = await within(pendingUpdate, 20_000, 'jobUpdates update'); !r.done; r = await within(updates.next(), 20_000, 'jobUpdates update')) {
      viaUpdates.push(r.value);
      if (r.value.state === 'SUCCEEDED') break;
    }
    expect(viaUpdates.at(-1)).toMatchObject({ state: 'SUCCEEDED' });
    expect(proxy.accepted).toBeGreaterThan(accepted); // it reconnected
  } finally {
    await client.close();
    await direct.close();
  }
});

it('close() ends watchJob and jobUpdates with CLOSED at once after the connection silently stopped carrying anything', async () => {
  const direct = sdkFor(s.t);
  // keepAliveMs: no ping is due within the waits below, so only the close can end them.
  const client = createClient({ url: s.t.url, wsUrl: `ws://127.0.0.1:${proxy.port}/graphql`, token: s.t.key!, reconnectDelayMs: 50 });
  try {
    await s.workers.stop(); // the job stays QUEUED: no update can come before the close
    const { job } = await direct.submitJob({ type: 'demo.noop' });
    const watch = client.watchJob(job!.id);
    expect((await within(watch.next(), 10_000, 'first update')).value).toMatchObject({ state: 'QUEUED' });
    const updates = client.jobUpdates({ ids: [job!.id] });
    const listeners = s.t.app.hub.listenerCount;
    const pending = [watch.next(), updates.next()].map((p) => p.then((v) => ({ v }), (e: unknown) => ({ e })));
    for (let i = 0; i < 250 && s.t.app.hub.listenerCount < listeners + 1; i++) await new Promise((r) => setTimeout(r, 20));

    proxy.freeze(); // the server never answers the closing handshake (ws used to wait 30 s for it)
    await within(client.close(), 5000, 'close()');
    for (const p of pending) {
      expect(await within(p, 5000, 'end of the iterator')).toEqual({ e: expect.objectContaining({ name: 'LongrunError', code: 'CLOSED' }) });
    }
  } finally {
    await client.close();
    await direct.close();
  }
});
