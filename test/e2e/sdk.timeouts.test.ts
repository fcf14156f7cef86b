/**
 * A server that accepts connections and never answers (frozen, or a black hole behind a proxy) does not hold
 * the SDK's calls for ever: a request over HTTP fails with TIMEOUT after `requestTimeoutMs`, and a watch
 * whose WebSocket is never opened (or acknowledged) fails with NETWORK after `connectTimeoutMs`. Both used to wait for ever
 * (so did `longrun jobs` and `longrun watch`). A watch whose signal aborts meanwhile ends at once. The
 * stand-in server is a plain TCP listener that reads and never writes. `close()` fails a request still waiting
 * with CLOSED, sent by the built-in transport or by the caller's own `fetch` (which used to wait on).
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient, LongrunError } from '../../sdk/index.js';

let server: net.Server;
let url: string;
const sockets = new Set<net.Socket>();
/** Connections the server has taken. */
let accepted = 0;
beforeAll(async () => {
  server = net.createServer((s) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.resume(); // reads, never answers
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/graphql`;
});
afterAll(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

/** How long `p` took to settle, and what it rejected with. */
async function failure(p: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const t0 = Date.now();
  const error = await p.then(() => new Error('it resolved'), (e: unknown) => e);
  return { ms: Date.now() - t0, error };
}

it('fails a request with TIMEOUT after requestTimeoutMs, and leaves no socket open', async () => {
  const client = createClient({ url, requestTimeoutMs: 400 });
  try {
    const { ms, error } = await failure(client.job('00000000-0000-0000-0000-000000000000'));
    expect(error).toBeInstanceOf(LongrunError);
    expect(error).toMatchObject({ code: 'TIMEOUT', message: expect.stringContaining('no answer from') });
    expect(ms).toBeGreaterThanOrEqual(350);
    expect(ms).toBeLessThan(10_000);
    // The request's socket was destroyed, not left to the server (which never closes one): it sees the close.
    for (let i = 0; i < 40 && sockets.size > 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(sockets.size).toBe(0);
  } finally {
    await client.close();
  }
});

it('fails a watch whose WebSocket is never opened with NETWORK after connectTimeoutMs', async () => {
  const client = createClient({ url, connectTimeoutMs: 400 });
  try {
    const { ms, error } = await failure(client.watchJob('00000000-0000-0000-0000-000000000000').next());
    expect(error).toBeInstanceOf(LongrunError);
    expect(error).toMatchObject({ code: 'NETWORK' });
    expect(ms).toBeLessThan(10_000);
  } finally {
    await client.close();
  }
});

it('ends a watchJob and a jobUpdates whose signal aborts while their WebSocket is still being opened, at once and without an error', async () => {
  // The handshake would wait for as long as the test may run: they end by the abort, not by its timeout.
  const client = createClient({ url, connectTimeoutMs: 600_000 });
  try {
    const abort = new AbortController();
    const before = accepted;
    const firsts = [
      client.watchJob('00000000-0000-0000-0000-000000000000', { signal: abort.signal }).next(),
      client.jobUpdates({}, { signal: abort.signal }).next(),
    ];
    while (accepted === before) await new Promise((r) => setTimeout(r, 10)); // the WebSocket reached the server
    abort.abort();
    expect(await Promise.all(firsts)).toEqual([{ done: true, value: undefined }, { done: true, value: undefined }]);
  } finally {
    await client.close();
  }
});

it.each([
  ['the built-in transport', {}],
  ["the caller's own fetch", { fetch: globalThis.fetch }],
])('fails a request still waiting when the client is closed with CLOSED, not NETWORK, sent by %s', async (_, transport) => {
  // No timeout: only the close can end the wait (with the caller's fetch it used to wait for ever).
  const client = createClient({ url, requestTimeoutMs: 0, ...transport });
  const before = accepted;
  const waiting = failure(client.job('00000000-0000-0000-0000-000000000000'));
  while (accepted === before) await new Promise((r) => setTimeout(r, 10)); // the request reached the server
  await client.close();
  const still = new Promise((r) => setTimeout(() => r({ error: 'still waiting 5 s after close()' }), 5000));
  const { error } = (await Promise.race([waiting, still])) as { error: unknown };
  expect(error).toBeInstanceOf(LongrunError);
  expect(error).toMatchObject({ code: 'CLOSED', message: 'the client was closed while the request waited for its answer' });
});
