/**
 * WS_PING_INTERVAL_MS decides how sockets are pinged, and `0` means never: graphql-ws' own keep-alive
 * (a ping every 12 s, and the socket dropped when its pong is not back 12 s later) ran besides it, so a
 * socket was pinged and dropped (1006) with pings off, and one whose pong came late, behind a slow
 * link's backlog, was dropped after 12 s instead of at the next of WS_PING_INTERVAL_MS's pings.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer } from '../support/graphql.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { WS_PING_INTERVAL_MS: '0' } });
});
afterAll(async () => {
  await t?.dispose();
});

/** graphql-ws' keep-alive interval (graphql-ws/use/ws `useServer`'s default). */
const GRAPHQL_WS_KEEP_ALIVE_MS = 12_000;

it('WS_PING_INTERVAL_MS=0: a socket that answers no ping is never pinged, and stays open', async () => {
  const ws = new WebSocket(t.wsUrl, 'graphql-transport-ws', { autoPong: false });
  const pings: number[] = [];
  ws.on('ping', () => pings.push(Date.now()));
  await new Promise((r) => ws.once('open', r));
  ws.send(JSON.stringify({ type: 'connection_init', payload: { authorization: bearer(t.key!) } }));
  await new Promise((r) => ws.once('message', r)); // connection_ack
  await new Promise((r) => setTimeout(r, GRAPHQL_WS_KEEP_ALIVE_MS + 1000));
  expect(pings).toEqual([]);
  expect(ws.readyState).toBe(WebSocket.OPEN);
  ws.close();
}, 30_000);
