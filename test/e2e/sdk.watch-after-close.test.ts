/**
 * A client is not spent by `close()`: a call or a watch made after it opens new connections, as a new client's
 * would. So a watch opened after `close()`, when the server is gone, fails at once with NETWORK `cannot reach`,
 * as an HTTP call then does and as a new client's first watch does. Before, the client still counted the
 * connections made before the close, took the refused connection for a lost one and tried again (for minutes,
 * with reconnectAttempts and the backoff).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTcpProxy } from '../support/proxy.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

it('watches again after close() while the server is there, and fails at once with NETWORK once it is gone', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const proxy = await startTcpProxy({ host: '127.0.0.1', port: Number(new URL(t.url).port) });
  const url = `http://127.0.0.1:${proxy.port}/graphql`;
  // A reconnect delay far beyond the test's timeout: a watch that tried again would never finish.
  const client = createClient({ url, token: t.key!, reconnectDelayMs: 600_000 });
  const firstUpdate = async () => {
    const watch = client.watchJob(id);
    try {
      return (await watch.next()).value;
    } finally {
      await watch.return?.(undefined);
    }
  };
  try {
    expect(await firstUpdate()).toMatchObject({ jobId: id, state: 'QUEUED' });
    await client.close();
    expect(await firstUpdate()).toMatchObject({ jobId: id, state: 'QUEUED' }); // a new connection
    expect((await client.job(id))?.state).toBe('QUEUED');
    await client.close();

    await proxy.close(); // the server gone: its port refuses connections
    await expect(client.job(id)).rejects.toMatchObject({ code: 'NETWORK', message: expect.stringMatching(/^cannot reach .*ECONNREFUSED/) });
    await expect(firstUpdate()).rejects.toMatchObject({
      name: 'LongrunError',
      code: 'NETWORK',
      message: expect.stringMatching(new RegExp(`^cannot reach ws://127\\.0\\.0\\.1:${proxy.port}/graphql: .*ECONNREFUSED`)),
    });
  } finally {
    await client.close();
    await proxy.close();
  }
});
