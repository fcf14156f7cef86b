/**
 * Every limit over graphql-ws, which parses and validates on its own: the protocol's close codes, the
 * connection_init timeout, the message size, the query limits, connections and subscriptions per key, the
 * submit rate, and a client too slow to read. The server keeps serving after each.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encode } from '../../src/messaging/messages.js';
import { bearer, collect, gql, PROGRESS, SUBMIT, wsClient } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { rawSocket } from '../support/raw-ws.js';
import { snapshot } from '../support/snapshot.js';

let t: TestApp;
let queuedJob: string;
beforeAll(async () => {
  t = await startTestApp({
    handlers: null, // jobs stay QUEUED, so their subscriptions stay open
    config: {
      GRAPHQL_MAX_DEPTH: '3',
      GRAPHQL_MAX_COST: '200',
      GRAPHQL_MAX_ALIASES: '10',
      GRAPHQL_MAX_TOKENS: '2000',
      WS_CONNECTION_INIT_TIMEOUT_MS: '300',
      WS_MAX_MESSAGE_BYTES: '65536',
      WS_MAX_BUFFERED_BYTES: '16384',
      MAX_CONNECTIONS_PER_KEY: '2',
      MAX_SUBSCRIPTIONS_PER_KEY: '3',
      SUBMIT_RATE_PER_SEC: '1',
      SUBMIT_BURST: '2',
    },
  });
  queuedJob = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } })).body.data.submitJob.job.id;
});
afterAll(async () => {
  await t?.dispose();
});

const serving = async () => expect((await gql(t.url, '{ jobTypes { name } }')).body.data.jobTypes.length).toBeGreaterThan(0);
const newKey = async () => ({ authorization: bearer((await t.createKey('ws')).key) });
/** A QUEUED job of the key's owner (no workers run here). */
const jobOf = async (key: Record<string, string>) => (await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } }, key)).body.data.submitJob.job.id as string;
/** Starts a subscription and resolves once its first value arrived; returns its unsubscribe function. */
function hold(client: ReturnType<typeof wsClient>, id: string): Promise<() => void> {
  return new Promise((resolve, reject) => {
    const stop = client.subscribe({ query: PROGRESS, variables: { id } }, {
      next: (v) => (v.errors ? reject(new Error(JSON.stringify(v.errors))) : resolve(stop)),
      error: reject,
      complete: () => {},
    });
  });
}
const codeOf = (errors: unknown[]) => (errors[0] as { extensions?: { code?: string } })?.extensions?.code;

describe('graphql-ws protocol', () => {
  const init = (s: ReturnType<typeof rawSocket>) => s.send({ type: 'connection_init', payload: { authorization: bearer(t.key!) } });
  const cases: [string, number, string | null, (s: ReturnType<typeof rawSocket>) => void][] = [
    ['a message that is not JSON', 4400, 'graphql-transport-ws', (s) => s.send('{not json')],
    ['a message of an unknown type', 4400, 'graphql-transport-ws', (s) => s.send({ type: 'hello' })],
    ['subscribe before connection_init', 4401, 'graphql-transport-ws', (s) => s.send({ id: '1', type: 'subscribe', payload: { query: '{ jobTypes { name } }' } })],
    ['two connection_init', 4429, 'graphql-transport-ws', (s) => (init(s), init(s))],
    ['no connection_init within WS_CONNECTION_INIT_TIMEOUT_MS', 4408, 'graphql-transport-ws', () => {}],
    ['a message over WS_MAX_MESSAGE_BYTES', 1009, 'graphql-transport-ws', (s) => s.send({ type: 'connection_init', payload: { pad: 'x'.repeat(100_000) } })],
    ['a text frame that is not UTF-8', 1007, 'graphql-transport-ws', (s) => s.ws.send(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), { binary: false })],
    ['no subprotocol (graphql-transport-ws is required)', 4406, null, () => {}],
  ];

  it.each(cases)('%s: closed with %d', async (_, code, protocol, act) => {
    const s = rawSocket(t.wsUrl, protocol);
    await s.opened;
    act(s);
    expect((await s.closed).code).toBe(code);
    await serving();
  });

  it('a subscribe with the same id twice closes with 4409', async () => {
    const s = rawSocket(t.wsUrl);
    await s.opened;
    init(s);
    await s.next((m) => m.type === 'connection_ack');
    const sub = { id: 'a', type: 'subscribe', payload: { query: PROGRESS, variables: { id: queuedJob } } };
    s.send(sub);
    await s.next((m) => m.type === 'next');
    s.send(sub);
    expect((await s.closed).code).toBe(4409);
  });

  it('an operationName the document does not have → BAD_REQUEST naming it; none given for two operations → asked for', async () => {
    const s = rawSocket(t.wsUrl);
    await s.opened;
    init(s);
    await s.next((m) => m.type === 'connection_ack');
    s.send({ id: 'z', type: 'subscribe', payload: { operationName: 'Z', query: 'query A { jobTypes { name } }' } });
    expect((await s.next((m) => m.id === 'z')).payload).toEqual([
      expect.objectContaining({ message: 'no operation named "Z" in the document', extensions: { code: 'BAD_REQUEST' } }),
    ]);
    s.send({ id: 'two', type: 'subscribe', payload: { query: 'query A { jobTypes { name } } query B { jobTypes { name } }' } });
    expect((await s.next((m) => m.id === 'two')).payload).toEqual([
      expect.objectContaining({ message: 'cannot tell which operation to run: give `operationName`', extensions: { code: 'BAD_REQUEST' } }),
    ]);
    s.ws.close();
  });
});

describe('query limits over graphql-ws (the same rules as HTTP)', () => {
  const alias11 = `subscription($id: ID!) { jobProgress(id: $id) { ${Array.from({ length: 11 }, (_, i) => `a${i}: seq`).join(' ')} } }`;
  const cases: [string, string, Record<string, unknown>, string][] = [
    ['depth', `{ deadLetters(first: 1) { edges { node { id } } } }`, {}, 'QUERY_TOO_DEEP'],
    ['cost', `{ a: deadLetters(first: 100) { totalCount } b: deadLetters(first: 100) { totalCount } c: deadLetters { totalCount } }`, {}, 'QUERY_TOO_COSTLY'],
    ['aliases', alias11, { id: '00000000-0000-4000-8000-000000000000' }, 'TOO_MANY_ALIASES'],
    ['tokens', `mutation { submitJob(input: { type: "demo.noop", payload: { l: [${Array(3000).fill(0).join(',')}] } }) { job { id } } }`, {}, 'GRAPHQL_PARSE_FAILED'],
    ['aliased mutations', `mutation { ${Array.from({ length: 11 }, (_, i) => `a${i}: submitJob(input: { type: "demo.noop" }) { job { id } }`).join(' ')} }`, {}, 'TOO_MANY_ALIASES'],
    ['unknown field', `{ nope }`, {}, 'GRAPHQL_VALIDATION_FAILED'],
    ['syntax error', `{`, {}, 'GRAPHQL_PARSE_FAILED'],
  ];
  it.each(cases)('%s → %s, nothing written', async (_, query, variables, code) => {
    const before = await snapshot(t);
    const client = wsClient(t.wsUrl);
    const r = await collect(client, query, variables);
    await client.dispose();
    expect(r.values).toEqual([]);
    expect(codeOf(r.errors)).toBe(code);
    expect(await snapshot(t)).toEqual(before);
  });

  it('submit rate: RATE_LIMITED with retryAfter, the same bucket as HTTP, nothing written', async () => {
    const key = await newKey();
    expect((await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } }, key)).body.data.submitJob.job).not.toBeNull();
    const client = wsClient(t.wsUrl, key);
    try {
      expect((await collect(client, SUBMIT, { input: { type: 'demo.noop' } })).values[0].job).not.toBeNull();
      const before = await snapshot(t);
      const r = await collect(client, SUBMIT, { input: { type: 'demo.noop' } });
      expect(codeOf(r.errors)).toBe('RATE_LIMITED');
      expect((r.errors[0] as any).extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: expect.any(Number), remaining: 0 });
      expect((r.errors[0] as any).extensions.retryAfter).toBeGreaterThanOrEqual(1);
      expect(await snapshot(t)).toEqual(before);
    } finally {
      await client.dispose();
    }
  });

  it('submit rate: the jobs of a variable\'s default value count as on HTTP (3 past a burst of 2: refused, nothing written)', async () => {
    const client = wsClient(t.wsUrl, await newKey());
    try {
      const before = await snapshot(t);
      const three = Array(3).fill('{ type: "demo.noop" }').join(', ');
      const r = await collect(client, `mutation($i: [SubmitJobInput!]! = [${three}]) { submitJobs(inputs: $i) { jobs { id } } }`, {});
      expect(r.values).toEqual([]);
      expect((r.errors[0] as any).extensions).toEqual({ code: 'RATE_LIMITED', retryAfter: null, limit: 2, remaining: 2 });
      expect(await snapshot(t)).toEqual(before);
    } finally {
      await client.dispose();
    }
  });
});

describe('per key', () => {
  it('connections: past MAX_CONNECTIONS_PER_KEY each operation answers TOO_MANY_CONNECTIONS; closing one frees a slot, also for the refused socket', async () => {
    const key = await newKey();
    const job = await jobOf(key);
    const clients = [wsClient(t.wsUrl, key), wsClient(t.wsUrl, key)];
    // A socket that stays open while refused (as GraphiQL's does).
    const third = rawSocket(t.wsUrl);
    const ask = async (id: string) => {
      third.send({ id, type: 'subscribe', payload: { query: '{ jobTypes { name } }' } });
      const m = await third.next((x) => x.id === id && (x.type === 'next' || x.type === 'error'));
      return m.type === 'error' ? codeOf(m.payload) : 'next';
    };
    try {
      for (const c of clients) await hold(c, job); // keeps each socket open
      await third.opened;
      third.send({ type: 'connection_init', payload: key });
      await third.next((m) => m.type === 'connection_ack');
      expect(await ask('1')).toBe('TOO_MANY_CONNECTIONS');
      expect(await ask('2')).toBe('TOO_MANY_CONNECTIONS');
      // Another key is not affected.
      const other = wsClient(t.wsUrl, await newKey());
      expect((await collect(other, '{ jobTypes { name } }', {})).errors).toEqual([]);
      await other.dispose();

      await clients.pop()!.dispose();
      // The refused socket gets the freed slot on its next operation (once the server saw the close).
      let last: string | undefined = 'not tried';
      for (let i = 0; i < 100 && last !== 'next'; i++) {
        last = await ask(`after-${i}`);
        if (last !== 'next') await new Promise((r) => setTimeout(r, 50));
      }
      expect(last).toBe('next');
      // It holds the slot now: a new socket is refused.
      const fourth = wsClient(t.wsUrl, key);
      expect(codeOf((await collect(fourth, '{ jobTypes { name } }', {})).errors)).toBe('TOO_MANY_CONNECTIONS');
      await fourth.dispose();
    } finally {
      third.ws.close();
      await Promise.all(clients.map((c) => c.dispose()));
    }
  });

  it('subscriptions: past MAX_SUBSCRIPTIONS_PER_KEY a new one answers TOO_MANY_SUBSCRIPTIONS; ending one frees a slot', async () => {
    const key = await newKey();
    const job = await jobOf(key);
    const client = wsClient(t.wsUrl, key);
    try {
      const open = [await hold(client, job), await hold(client, job), await hold(client, job)];
      expect(codeOf((await collect(client, PROGRESS, { id: job })).errors)).toBe('TOO_MANY_SUBSCRIPTIONS');
      expect((await collect(client, '{ jobTypes { name } }', {})).errors).toEqual([]); // queries still work

      open.pop()!(); // the client completes one
      const deadline = Date.now() + 5000;
      let stop: (() => void) | null = null;
      while (!stop && Date.now() < deadline) stop = await hold(client, job).catch(() => null);
      expect(stop).not.toBeNull();
      for (const end of [...open, stop!]) end();
    } finally {
      await client.dispose();
    }
  });
});

describe('a client too slow to read', () => {
  it('is closed with 1013 once its unsent data passes WS_MAX_BUFFERED_BYTES; server memory stays bounded', async () => {
    const s = rawSocket(t.wsUrl);
    await s.opened;
    s.send({ type: 'connection_init', payload: { authorization: bearer((await t.createKey('slow', true)).key) } });
    await s.next((m) => m.type === 'connection_ack');
    for (const id of ['1', '2', '3']) s.send({ id, type: 'subscribe', payload: { query: PROGRESS, variables: { id: queuedJob } } });
    for (const id of ['1', '2', '3']) await s.next((m) => m.type === 'next' && m.id === id);
    s.ws.pause(); // stop reading: the kernel buffers fill, then the server's

    const { nc } = t.app.deps.nats;
    const subject = t.app.deps.names.updateSubject('demo.noop', 'RUNNING', queuedJob);
    const message = 'x'.repeat(8000);
    const serverSocket = () => [...t.app.http.websockets.clients].find((c) => c.readyState !== c.OPEN);
    let maxBuffered = 0;
    for (let seq = 2; seq < 20_000 && !serverSocket(); seq++) {
      nc.publish(subject, encode({ jobId: queuedJob, type: 'demo.noop', seq, state: 'RUNNING', progress: 1, message, attempt: 1, at: new Date().toISOString() }));
      if (seq % 20 === 0) {
        await nc.flush();
        await new Promise((r) => setTimeout(r, 5));
        for (const c of t.app.http.websockets.clients) maxBuffered = Math.max(maxBuffered, c.bufferedAmount);
      }
    }
    expect(serverSocket()).toBeDefined();
    // At most the bound plus the one message that crossed it.
    expect(maxBuffered).toBeLessThanOrEqual(16384 + 9000);

    s.ws.resume();
    expect(await s.closed).toEqual({ code: 1013, reason: 'send buffer full: the client reads too slowly' });
    await serving();
  });
});
