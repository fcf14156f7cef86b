/**
 * A watch begun while `close()` still waits for the old connection's closing handshake goes out on a new
 * connection; the old connection's close, heard later, belongs to the old graphql-ws client. It used to reset
 * the shared state (the connection taken for not acknowledged), so the next `close()` cut the new connection
 * (4499, as for one still being made) instead of closing it normally (1000).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, type JobUpdate } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { sleep, within } from '../support/sdk-updates.js';
import { startWsProxy, type WsProxy } from '../support/ws-proxy.js';

let t: TestApp;
let proxy: WsProxy;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
  proxy = await startWsProxy(t.wsUrl);
});
afterAll(async () => {
  await proxy?.close();
  await t?.dispose();
});

/** Waits (up to 5 s) until the proxy has seen `n` client connections end; answers their close codes. */
async function closeCodes(n: number): Promise<readonly number[]> {
  for (let i = 0; i < 250 && proxy.closeCodes.length < n; i++) await sleep(20);
  return proxy.closeCodes;
}

it('closes normally (1000) a watch begun while close() waited for the old connection to answer its closing handshake', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  // A reconnect delay far beyond the test's timeout: a watch that tried again would never finish.
  const client = createClient({ url: t.url, wsUrl: proxy.url, token: t.key!, reconnectDelayMs: 600_000 });
  try {
    const before = client.watchJob(id);
    expect((await within(before.next(), 10_000, 'first update')).value).toMatchObject({ jobId: id, state: 'QUEUED' });

    // The old connection's closing handshake waits unanswered while a new watch connects and has its first update
    // (close() would cut it after 1 s; the proxy sees which: 1000 answered, 1006 cut).
    const answerCloses = proxy.holdCloses();
    const closing = client.close();
    const after = client.watchJob(id);
    const first = await within(after.next(), 10_000, 'first update after close()');
    expect(first.value as JobUpdate).toMatchObject({ jobId: id, state: 'QUEUED' });
    expect(proxy.accepted).toBe(2);
    answerCloses();
    await closing;
    await expect(before.next()).rejects.toMatchObject({ code: 'CLOSED' });
    // Answered, not cut: the old connection's close came after the new watch's connection was acknowledged.
    expect(await closeCodes(1)).toEqual([1000]);

    await client.close();
    await expect(after.next()).rejects.toMatchObject({ code: 'CLOSED' });
    expect(await closeCodes(2)).toEqual([1000, 1000]);
  } finally {
    await client.close();
  }
});
