/**
 * An API-key check that fails (as opposed to a key that is refused) is classified alike over HTTP and
 * graphql-ws, by the same formatError: PostgreSQL out of reach is SERVICE_UNAVAILABLE (HTTP 503), the client
 * may retry; any other failure is a bug, INTERNAL_SERVER_ERROR (HTTP 500), never reported as an outage. Each
 * is logged with the request id.
 *
 * Both for real: the app reaches its database through a TCP proxy, closed for the outage; the bug is the
 * api_keys table missing (renamed away and back), which no retry mends.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { collect, gql, wsClient } from '../support/graphql.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';

const TYPES = '{ jobTypes { name } }';
const lines: Record<string, any>[] = [];
const log = createLogger('warn', 'longrun', { write: (s: string) => void lines.push(JSON.parse(s)) });

let env: TestEnv;
let proxy: TcpProxy;
let t: TestApp;
beforeAll(async () => {
  env = await createTestEnv();
  const db = await startTcpProxyFor(env.databaseUrl);
  proxy = db.proxy;
  t = await startTestApp({ env, config: { DATABASE_URL: db.url }, handlers: null, log });
});
afterAll(async () => {
  await t?.dispose();
  await proxy?.close();
  await env?.dispose();
});

/** What a client sees of one query, over HTTP and over a new graphql-ws connection. */
async function answers() {
  const http = await gql(t.url, TYPES);
  const client = wsClient(t.wsUrl);
  try {
    const ws = await collect(client, TYPES, {});
    return { status: http.status, http: http.body.errors?.[0], ws: ws.errors[0] as { message: string; extensions?: { code?: string } } };
  } finally {
    await client.dispose();
  }
}

it('a failure that is no outage (the api_keys table missing) answers INTERNAL_SERVER_ERROR on both transports', async () => {
  await env.sql`alter table api_keys rename to api_keys_away`;
  try {
    const r = await answers();
    expect(r.status).toBe(500);
    expect(r.http).toMatchObject({ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
    expect(r.ws).toMatchObject({ message: 'internal error', extensions: { code: 'INTERNAL_SERVER_ERROR' } });
  } finally {
    await env.sql`alter table api_keys_away rename to api_keys`;
  }
  const logged = lines.find((l) => l.msg === 'GraphQL over WebSocket: authentication failed');
  expect(logged).toMatchObject({ level: 50, requestId: expect.any(String) });
  expect(logged!.err.message).toMatch(/api_keys/);
  // Not a lasting refusal: the next connection authenticates.
  const client = wsClient(t.wsUrl);
  expect((await collect(client, TYPES, {})).errors).toEqual([]);
  await client.dispose();
});

it('PostgreSQL out of reach answers SERVICE_UNAVAILABLE on both transports', async () => {
  await proxy.close(); // cuts the app's connections and refuses new ones
  const r = await answers();
  expect(r.status).toBe(503);
  const unavailable = { message: 'a backing service is unavailable, try again', extensions: { code: 'SERVICE_UNAVAILABLE' } };
  expect(r.http).toMatchObject(unavailable);
  expect(r.ws).toMatchObject(unavailable);
  const logged = lines.find((l) => l.msg === 'GraphQL over WebSocket: cannot authenticate, a backing service is unavailable');
  expect(logged).toMatchObject({ level: 40, requestId: expect.any(String) });
});
