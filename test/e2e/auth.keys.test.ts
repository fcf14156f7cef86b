/**
 * API keys end to end: the keys command creates and revokes them; HTTP and graphql-ws require one; a revoked
 * key stops at once and its open subscriptions end; `LONGRUN_AUTH=off`; the development key in GraphiQL.
 */
import { request as httpRequest } from 'node:http';
import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runKeysCommand } from '../../src/auth/keys-cli.js';
import { ensureDevKey } from '../../src/auth/dev-key.js';
import { bearer, collect, gql, NO_KEY, PROGRESS, SUBMIT, wsClient } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

const TYPES = '{ jobTypes { name } }';
const codeOf = (r: { body: { errors?: { extensions?: { code?: string } }[] } }) => r.body.errors?.[0]?.extensions?.code;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ config: { AUTH_RECHECK_MS: '200' } });
});
afterAll(async () => {
  await t?.dispose();
});

async function keysCommand(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runKeysCommand(argv, { out: (l) => out.push(l), err: (l) => err.push(l) }, { DATABASE_URL: t.env.databaseUrl });
  return { code, out, err };
}

describe('keys command', () => {
  it('create prints the key alone on the last line; the database keeps only its hash', async () => {
    const r = await keysCommand('create', '--owner', 'carol');
    expect(r.code).toBe(0);
    const key = r.out.at(-1)!;
    expect(key).toMatch(/^lr_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    const [row] = await t.env.sql`select * from api_keys where id = ${key.slice(3, 19)}`;
    expect(row).toMatchObject({ owner: 'carol', admin: false, revoked_at: null });
    expect(JSON.stringify(row)).not.toContain(key.slice(20));
    expect((await gql(t.url, TYPES, {}, { authorization: bearer(key) })).body.data.jobTypes.length).toBeGreaterThan(0);
  });

  it('--admin makes an admin key; bad usage exits 2, an unknown id exits 1', async () => {
    const r = await keysCommand('create', '--owner', 'ops', '--admin');
    const [row] = await t.env.sql`select admin from api_keys where id = ${r.out.at(-1)!.slice(3, 19)}`;
    expect(row!.admin).toBe(true);
    expect((await keysCommand('create')).code).toBe(2);
    expect((await keysCommand('create', '--owner', 'no spaces')).code).toBe(2);
    expect((await keysCommand('frobnicate')).code).toBe(2);
    expect((await keysCommand('revoke', 'ffffffffffffffff')).code).toBe(1);
  });

  it('revoke takes the whole key too (a leaked key, pasted as found): it is revoked, not "no key with id"', async () => {
    const key = (await keysCommand('create', '--owner', 'leaky')).out.at(-1)!;
    expect((await gql(t.url, TYPES, {}, { authorization: bearer(key) })).status).toBe(200);
    const r = await keysCommand('revoke', key);
    expect(r.err).toEqual([]);
    expect(r.code).toBe(0);
    expect(r.out).toEqual([expect.stringMatching(new RegExp(`^revoked key ${key.slice(3, 19)} \\(owner leaky\\) at `))]);
    const after = await gql(t.url, TYPES, {}, { authorization: bearer(key) });
    expect(after.status).toBe(401);
    expect(codeOf(after)).toBe('UNAUTHENTICATED');
  });
});

describe('HTTP', () => {
  it.each([
    ['no header', NO_KEY],
    ['not Bearer', { authorization: 'Basic dXNlcjpwYXNz' }],
    ['malformed key', { authorization: 'Bearer nope' }],
    ['unknown id', { authorization: 'Bearer lr_0123456789abcdef_' + 'A'.repeat(43) }],
  ])('%s: 401 UNAUTHENTICATED with a GraphQL error body', async (_, headers) => {
    const r = await gql(t.url, TYPES, {}, headers);
    expect(r.status).toBe(401);
    expect(codeOf(r)).toBe('UNAUTHENTICATED');
    expect(r.body.data).toBeUndefined();
  });

  it('a known id with the wrong secret is refused', async () => {
    const { key } = await t.createKey('dave');
    const forged = key.slice(0, 20) + (key[20] === 'A' ? 'B' : 'A') + key.slice(21);
    expect(codeOf(await gql(t.url, TYPES, {}, { authorization: bearer(forged) }))).toBe('UNAUTHENTICATED');
  });

  it('a refused request writes nothing', async () => {
    const before = (await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs`)[0]!.n;
    const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop' } }, NO_KEY);
    expect(codeOf(r)).toBe('UNAUTHENTICATED');
    const after = (await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs`)[0]!.n;
    expect(after).toBe(before);
  });
});

describe('graphql-ws', () => {
  it('a socket without a key is accepted, and each operation on it answers UNAUTHENTICATED', async () => {
    const client = wsClient(t.wsUrl, NO_KEY);
    let acked = false;
    client.on('connected', () => (acked = true));
    try {
      for (let i = 0; i < 2; i++) {
        const r = await collect(client, PROGRESS, { id: '00000000-0000-4000-8000-000000000000' });
        expect((r.errors[0] as any).extensions.code).toBe('UNAUTHENTICATED');
      }
      expect(acked).toBe(true);
    } finally {
      await client.dispose();
    }
  });

  it('reads `authorization` from connectionParams in any letter case (GraphiQL sends `Authorization`)', async () => {
    const { key } = await t.createKey('erin');
    for (const name of ['authorization', 'Authorization', 'AUTHORIZATION']) {
      const client = wsClient(t.wsUrl, { [name]: bearer(key) });
      const r = await collect(client, TYPES, {});
      await client.dispose();
      expect(r.errors).toEqual([]);
      expect(r.values[0].length).toBeGreaterThan(0);
    }
  });
});

describe('revoking a key', () => {
  it('stops it at once over HTTP and ends its open subscriptions with UNAUTHENTICATED within seconds', async () => {
    const created = await keysCommand('create', '--owner', 'frank');
    const key = created.out.at(-1)!;
    const id = key.slice(3, 19);
    const headers = { authorization: bearer(key) };
    const job = (await gql(t.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 60_000, steps: 1 } } }, headers)).body.data.submitJob.job;

    const client = wsClient(t.wsUrl, headers);
    const values: unknown[] = [];
    const stream = collect(client, PROGRESS, { id: job.id }, (v) => values.push(v));
    while (values.length === 0) await new Promise((r) => setTimeout(r, 50));

    const revoked = await keysCommand('revoke', id);
    expect(revoked.code).toBe(0);
    expect(codeOf(await gql(t.url, TYPES, {}, headers))).toBe('UNAUTHENTICATED');

    const r = await stream; // ends on its own: the job itself runs for a minute
    expect((r.errors[0] as any).extensions.code).toBe('UNAUTHENTICATED');
    // The socket stays open, but answers UNAUTHENTICATED from now on.
    const again = await collect(client, PROGRESS, { id: job.id });
    expect((again.errors[0] as any).extensions.code).toBe('UNAUTHENTICATED');
    await client.dispose();
    await gql(t.url, `mutation($id: ID!) { cancelJob(id: $id) { job { id } } }`, { id: job.id });
  });
});

describe('LONGRUN_AUTH=off', () => {
  it('every caller is the admin owner "anonymous", with no key', async () => {
    const off = await startTestApp({ config: { LONGRUN_AUTH: 'off' }, handlers: null });
    try {
      expect(off.key).toBeNull();
      const r = await gql(off.url, SUBMIT, { input: { type: 'demo.noop' } }, NO_KEY);
      expect(r.body.data.submitJob.userErrors).toEqual([]);
      const [row] = await off.env.sql`select owner from jobs where id = ${r.body.data.submitJob.job.id}`;
      expect(row!.owner).toBe('anonymous');
      const client = wsClient(off.wsUrl, NO_KEY);
      for await (const s of client.iterate({ query: PROGRESS, variables: { id: r.body.data.submitJob.job.id } })) {
        expect(s.errors).toBeUndefined();
        expect((s.data as any).jobProgress.state).toBe('QUEUED');
        break;
      }
      await client.dispose();
    } finally {
      await off.dispose();
    }
  });
});

/** An IPv4 address of this machine that is not loopback (a request to it does not come from 127.0.0.1), if any. */
const LAN_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;

describe('the development key', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'longrun-devkey-'));
    await writeFile(path.join(dir, 'index.html'), '<html><head><!--longrun-config--></head><body></body></html>');
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const page = async (url: string) => (await fetch(url, { headers: { accept: 'text/html' } })).text();

  it('development: created once, kept in the file, pre-filled in GraphiQL, and it works', async () => {
    const file = path.join(dir, 'dev-key');
    const dev = await startTestApp({ config: { NODE_ENV: 'development' }, handlers: null, app: { devKeyFile: file, graphiql: { distDir: dir } } });
    try {
      const key = dev.app.devKey!;
      expect(key).toMatch(/^lr_/);
      expect((await readFile(file, 'utf8')).trim()).toBe(key);
      expect(await page(dev.url)).toContain(JSON.stringify({ defaultHeaders: { Authorization: `Bearer ${key}` } }));
      // No other site may frame the page that holds the key (clickjacking its Run button).
      const headers = (await fetch(dev.url, { headers: { accept: 'text/html' } })).headers;
      expect([headers.get('x-frame-options'), headers.get('content-security-policy')]).toEqual(['DENY', "frame-ancestors 'none'"]);
      expect(codeOf(await gql(dev.url, TYPES, {}, { authorization: bearer(key) }))).toBeUndefined();
      // Next start: the same key.
      expect(await ensureDevKey(dev.env.sql, file)).toEqual({ key, created: false });
      // A stored key that no longer works, in a file others may read: replaced, and the file made private.
      await writeFile(file, 'lr_0000000000000000_stale\n');
      await chmod(file, 0o644);
      const replaced = await ensureDevKey(dev.env.sql, file);
      expect(replaced.created).toBe(true);
      expect((await stat(file)).mode & 0o777).toBe(0o600);
    } finally {
      await dev.dispose();
    }
  });

  // The server listens on every interface by default (HOST 0.0.0.0): the admin key is for this machine's browser.
  it.skipIf(!LAN_ADDRESS)('development: the key is pre-filled only for a browser on this machine, not one across the network', async () => {
    const dev = await startTestApp({ config: { NODE_ENV: 'development', HOST: '0.0.0.0' }, handlers: null, app: { devKeyFile: path.join(dir, 'lan-key'), graphiql: { distDir: dir } } });
    try {
      const port = new URL(dev.url).port;
      expect(await page(`http://127.0.0.1:${port}/graphql`)).toContain(`Bearer ${dev.app.devKey}`);
      const remote = await page(`http://${LAN_ADDRESS}:${port}/graphql`);
      expect(remote).toContain('window.LONGRUN = {}');
      expect(remote).not.toContain('Bearer');
    } finally {
      await dev.dispose();
    }
  });

  // DNS rebinding: a web page at evil.example points its name at 127.0.0.1; the victim's browser then sends
  // it from loopback, with `Host: evil.example:<port>`, and the page's script may read the answer.
  it('development: a loopback request for another host name (DNS rebinding) gets GraphiQL with no key', async () => {
    const dev = await startTestApp({ config: { NODE_ENV: 'development' }, handlers: null, app: { devKeyFile: path.join(dir, 'rebind-key'), graphiql: { distDir: dir } } });
    try {
      const port = Number(new URL(dev.url).port);
      const pageFor = (host: string, headers: Record<string, string> = {}) =>
        new Promise<string>((resolve, reject) => {
          const req = httpRequest({ host: '127.0.0.1', port, path: '/graphql', headers: { host, accept: 'text/html', ...headers } }, (res) => {
            let body = '';
            res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve(body));
          });
          req.on('error', reject).end();
        });
      for (const host of [`evil.example:${port}`, 'evil.example', `127.0.0.1.evil.example:${port}`, `localhost.evil.example:${port}`, `evil.localhost:${port}`]) {
        const html = await pageFor(host);
        expect(html, host).toContain('window.LONGRUN = {}');
        expect(html, host).not.toContain('Bearer');
      }
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, 'localhost', `LOCALHOST:${port}`]) {
        expect(await pageFor(host), host).toContain(`Bearer ${dev.app.devKey}`);
      }
      // A reverse proxy on this machine passing a browser's request on (`proxy_pass http://127.0.0.1:<port>`
      // sends that as Host): the browser is elsewhere, and the proxy says so in its forwarding headers.
      const forwarded = { 'x-forwarded-for': '203.0.113.7', forwarded: 'for=203.0.113.7', 'x-real-ip': '203.0.113.7', via: '1.1 proxy', 'x-forwarded-host': 'jobs.example' };
      for (const [name, value] of Object.entries(forwarded)) {
        const html = await pageFor(`127.0.0.1:${port}`, { [name]: value });
        expect(html, name).toContain('window.LONGRUN = {}');
        expect(html, name).not.toContain('Bearer');
      }
    } finally {
      await dev.dispose();
    }
  });

  it('production: no key is made and nothing is pre-filled', async () => {
    const prod = await startTestApp({ config: { NODE_ENV: 'production' }, handlers: null, app: { devKeyFile: path.join(dir, 'prod-key'), graphiql: { distDir: dir } } });
    try {
      expect(prod.app.devKey).toBeNull();
      const html = await page(prod.url);
      expect(html).toContain('window.LONGRUN = {}');
      expect(html).not.toContain('Bearer');
    } finally {
      await prod.dispose();
    }
  });
});
