/**
 * The SDK's node:http transport leaves nothing on the request's signal once the call has settled: the
 * signal (the request timeout's, which fires 30 s later) would otherwise hold every finished request, and its
 * abort would still run for it. And it closes an idle socket before the server's announced keep-alive
 * timeout, so that no request goes out on a socket the server is closing (ECONNRESET).
 */
import { getEventListeners } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { nodePost } from '../../sdk/http.js';

let server: http.Server;
let url: string;
const transport = nodePost();
beforeAll(async () => {
  server = http.createServer((req, res) => req.resume().on('end', () => res.end('{"data":{}}')));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/graphql`;
});
afterAll(async () => {
  transport.close();
  await new Promise((r) => server.close(r));
});

const init = (signal: AbortSignal) => ({ method: 'POST' as const, headers: {}, body: '{}', signal });

it('removes its abort listener when the answer has come', async () => {
  const signal = new AbortController().signal;
  const answer = await transport.post(url, init(signal));
  expect(await answer.text()).toBe('{"data":{}}');
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
});

it('removes it when the request failed', async () => {
  const signal = new AbortController().signal;
  const closed = `http://127.0.0.1:1/graphql`; // nothing listens on port 1
  await expect(transport.post(closed, init(signal))).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  expect(getEventListeners(signal, 'abort')).toHaveLength(0);
});

it('still aborts a request that waits, with the reason of its signal', async () => {
  const frozen = http.createServer(() => {}); // takes the request, never answers
  await new Promise<void>((r) => frozen.listen(0, '127.0.0.1', r));
  try {
    const ac = new AbortController();
    const call = transport.post(`http://127.0.0.1:${(frozen.address() as AddressInfo).port}/`, init(ac.signal));
    setTimeout(() => ac.abort(new Error('no answer in time')), 50);
    await expect(call).rejects.toThrow('no answer in time');
    expect(getEventListeners(ac.signal, 'abort')).toHaveLength(0);
  } finally {
    frozen.closeAllConnections();
    await new Promise((r) => frozen.close(r));
  }
});

it('closes an idle socket itself before the server announced it would (Keep-Alive: timeout=2)', async () => {
  const brief = http.createServer((req, res) => req.resume().on('end', () => res.end('{"data":{}}')));
  brief.keepAliveTimeout = 2000; // node answers `Keep-Alive: timeout=2` and closes an idle socket after 2 s
  const closedBy = new Promise<string>((resolve) =>
    brief.once('connection', (socket) => {
      socket.once('end', () => resolve('client')); // the client's FIN: it hung up first
      socket.once('close', () => resolve('server'));
    }),
  );
  await new Promise<void>((r) => brief.listen(0, '127.0.0.1', r));
  const own = nodePost();
  try {
    const answer = await own.post(`http://127.0.0.1:${(brief.address() as AddressInfo).port}/`, init(new AbortController().signal));
    expect(answer.headers.get('keep-alive')).toBe('timeout=2');
    expect(await closedBy).toBe('client');
  } finally {
    own.close();
    brief.closeAllConnections();
    await new Promise((r) => brief.close(r));
  }
});
