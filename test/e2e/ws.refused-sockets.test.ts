/**
 * Sockets without a usable key are let in (each operation answers UNAUTHENTICATED or TOO_MANY_CONNECTIONS),
 * but only up to WS_MAX_REFUSED_SOCKETS per API process: past that, a socket is closed with 4403 at its
 * connection_init. Before, anyone without a key could open sockets without end, each kept open for as long
 * as it answered pings, until the process ran out of file descriptors or memory.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { bearer } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { rawSocket, type RawSocket } from '../support/raw-ws.js';

let t: TestApp;
const open: RawSocket[] = [];
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { WS_MAX_REFUSED_SOCKETS: '3', MAX_CONNECTIONS_PER_KEY: '1' } });
});
afterAll(async () => {
  for (const s of open) s.ws.close();
  await t?.dispose();
});

/** A socket that sent connection_init with `authorization` (none when undefined): acked, or closed and how. */
async function connect(authorization?: string): Promise<{ s: RawSocket; acked: boolean; closed?: number }> {
  const s = rawSocket(t.wsUrl);
  open.push(s);
  await s.opened;
  s.send({ type: 'connection_init', payload: authorization === undefined ? {} : { authorization } });
  const r = await Promise.race([s.next((m) => m.type === 'connection_ack').then(() => 'ack' as const), s.closed]);
  return r === 'ack' ? { s, acked: true } : { s, acked: false, closed: r.code };
}

it('lets in at most WS_MAX_REFUSED_SOCKETS sockets without a usable key, and every socket with one', async () => {
  const key = (await t.createKey('refused')).key;
  expect((await connect(bearer(key))).acked).toBe(true); // the key's one connection slot
  const first = await Promise.all([connect(), connect('Bearer not-a-key'), connect(bearer(key))]); // no key, a bad key, no slot left
  expect(first.map((c) => c.acked)).toEqual([true, true, true]);

  expect(await connect()).toMatchObject({ acked: false, closed: 4403 });
  expect(await connect(bearer(key))).toMatchObject({ acked: false, closed: 4403 });
  expect((await connect(bearer(t.key!))).acked).toBe(true); // a usable key is always let in

  // One refused socket closes: its place is free again, once the server has seen the close (a socket it
  // refuses meanwhile is closed, and takes no place).
  first[0]!.s.ws.close();
  await first[0]!.s.closed;
  let again = await connect('Bearer still-not-a-key');
  for (let i = 0; i < 40 && !again.acked; i++) {
    await new Promise((r) => setTimeout(r, 50));
    again = await connect('Bearer still-not-a-key');
  }
  expect(again.acked).toBe(true);
});
