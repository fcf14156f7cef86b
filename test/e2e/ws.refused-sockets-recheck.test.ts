/**
 * The cap on sockets without a usable key (WS_MAX_REFUSED_SOCKETS) holds for sockets whose key could not be
 * checked at their connection_init (PostgreSQL out of reach, or another failure: they are let in and check
 * again on their next operation). One found without a usable key by that later check counts as refused
 * like any other, and past the cap it is closed with 4403; before, it was never counted, so every socket
 * opened during an outage stayed open without a key, whatever the cap.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { rawSocket, type RawSocket } from '../support/raw-ws.js';

let t: TestApp;
const open: RawSocket[] = [];
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { WS_MAX_REFUSED_SOCKETS: '1' } });
});
afterAll(async () => {
  for (const s of open) s.ws.close();
  await t?.dispose();
});

/** A socket that sent connection_init with a revoked key (its check reads the database), once acked. */
async function badKeySocket(key: string): Promise<RawSocket> {
  const s = rawSocket(t.wsUrl);
  open.push(s);
  await s.opened;
  s.send({ type: 'connection_init', payload: { authorization: `Bearer ${key}` } });
  await s.next((m) => m.type === 'connection_ack');
  return s;
}

/** The code of the error a query on the socket answers. */
async function query(s: RawSocket, id: string): Promise<string> {
  s.send({ id, type: 'subscribe', payload: { query: '{ jobTypes { name } }' } });
  return (await s.next((m) => m.id === id && m.type === 'error')).payload[0].extensions.code;
}

/** Once `n` of the sockets have closed: how each closed, 'open' for the others. */
function afterCloses(sockets: RawSocket[], n: number): Promise<(number | 'open')[]> {
  const codes: (number | 'open')[] = sockets.map(() => 'open');
  let closed = 0;
  return new Promise((resolve) =>
    sockets.forEach((s, i) =>
      void s.closed.then((c) => {
        codes[i] = c.code;
        if (++closed === n) resolve([...codes]);
      }),
    ),
  );
}

it('sockets let in while their key could not be checked count against WS_MAX_REFUSED_SOCKETS once checked', async () => {
  const revoked = await t.createKey('gone');
  await t.revokeKey(revoked.id);
  // The key check fails (not a refusal): the api_keys table is away, as in a bug or an outage.
  await t.env.sql`alter table api_keys rename to api_keys_away`;
  let sockets: RawSocket[];
  try {
    sockets = [await badKeySocket(revoked.key), await badKeySocket(revoked.key), await badKeySocket(revoked.key)];
  } finally {
    await t.env.sql`alter table api_keys_away rename to api_keys`;
  }
  // Checked again on their next operation: none has a usable key. Each gets its answer; one fits under the
  // cap and stays open (whichever check finished first), the others are closed as a socket past the cap is
  // at its connection_init.
  expect(await Promise.all(sockets.map((s, i) => query(s, `q${i}`)))).toEqual(['UNAUTHENTICATED', 'UNAUTHENTICATED', 'UNAUTHENTICATED']);
  // Two closed; the third still answers (a socket the server closed would not).
  const closes = await afterCloses(sockets, 2);
  expect([...closes].sort()).toEqual([4403, 4403, 'open']);
  expect(await query(sockets[closes.indexOf('open')]!, 'again')).toBe('UNAUTHENTICATED');
});
