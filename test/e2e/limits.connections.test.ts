/**
 * HTTP_MAX_CONNECTIONS: past the cap, a new TCP connection to the API's port is closed as it arrives, so a
 * flood of idle connections cannot take the process's file descriptors; the connections already open keep
 * working, and once one closes a new one gets in.
 */
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/receivers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { HTTP_MAX_CONNECTIONS: '3' } });
});
afterAll(async () => {
  await t?.dispose();
});

/** A `{ __typename }` over a connection of its own: the status, or the error that ended the connection. */
function ask(): Promise<number | string> {
  return new Promise((resolve) => {
    const req = http.request(t.url, { method: 'POST', agent: false, headers: { 'content-type': 'application/json', authorization: bearer(t.key!) } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    req.end(JSON.stringify({ query: '{ __typename }' }));
  });
}

/** An idle connection that the server has accepted (it answers an HTTP request on it first). */
async function idleConnection(): Promise<net.Socket> {
  const { port, hostname } = new URL(t.url);
  const s = net.connect(Number(port), hostname);
  s.on('error', () => {});
  await new Promise((r) => s.once('connect', r));
  return s;
}

it('refuses a connection past the cap, and lets one in again once another closes', async () => {
  const open = [await idleConnection(), await idleConnection(), await idleConnection()];
  await eventually(
    () => new Promise<boolean | undefined>((r) => t.app.http.server.getConnections((_e, n) => r(n === 3 || undefined))),
    10_000,
    'the server holds the three connections',
  );
  expect(await ask()).toBe('ECONNRESET');
  open[0]!.destroy();
  await eventually(async () => ((await ask()) === 200 ? true : undefined), 10_000, 'a new connection gets in');
  for (const s of open) s.destroy();
});
