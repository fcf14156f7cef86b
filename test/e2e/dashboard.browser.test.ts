/**
 * The operator dashboard at GET /dashboard. Over plain HTTP: the page with GraphiQL's security headers, the
 * development key only for a browser on this machine. In headless Chromium with the development key: a job
 * that failed for good shows in its type's row and among the dead letters (its error as text, not HTML); its
 * id opens it; Retry replays it, it leaves the dead letters and the open job shows SUCCEEDED; Pause and
 * Resume flip the type; a wrong key typed in is answered UNAUTHENTICATED on the page; no request leaves the
 * machine. A screenshot is saved to test-artifacts/dashboard.png.
 */
import { request as httpRequest } from 'node:http';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { bearer, gql, SUBMIT } from '../support/graphql.js';
import { ensurePagesBuilt } from '../support/pages.js';
import { eventually } from '../support/streams.js';
import { PermanentJobError } from '../../src/errors.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';

const root = path.resolve(import.meta.dirname, '../..');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Fails for good (a dead letter) while `refusing`; the test lets its replay succeed. */
let refusing = true;
const ERROR = 'downstream refused <img src=x onerror="document.title=1">';
const replayable = defineJobType({
  name: 'test.replayable',
  description: 'fails for good until the test lets it succeed',
  payload: z.object({}),
  maxAttempts: 1,
  rateLimit: { max: 100, perMs: 1000 },
});
const replayableHandler = defineHandler(replayable, async () => {
  if (refusing) throw new PermanentJobError(ERROR);
  return { replayed: true };
});

let t: TestApp;
let dir: string;
let browser: Browser;
let workers: WorkerSwitch;
let dashboardUrl: string;
beforeAll(async () => {
  await ensurePagesBuilt();
  dir = await mkdtemp(path.join(tmpdir(), 'longrun-dashboard-'));
  t = await startTestApp({ handlers: null, types: [...BUILTIN_JOB_TYPES, replayable], app: { devKey: true, devKeyFile: path.join(dir, 'dev-key') } });
  workers = workerSwitch(t, [...BUILTIN_HANDLERS, replayableHandler]);
  await workers.start();
  dashboardUrl = t.url.replace(/\/graphql$/, '/dashboard');
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
});
afterAll(async () => {
  await workers?.stop();
  await browser?.close();
  await t?.dispose();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** GET `path` from 127.0.0.1 with `Host: host`: the status, headers and body. */
const get = (path: string, host: string) =>
  new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const port = Number(new URL(t.url).port);
    const req = httpRequest({ host: '127.0.0.1', port, path, headers: { host, accept: 'text/html' } }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject).end();
  });

it('serves the page with the security headers, and the development key only to this machine', async () => {
  const port = new URL(t.url).port;
  for (const p of ['/dashboard', '/dashboard/']) {
    const local = await get(p, `127.0.0.1:${port}`);
    expect(local.status, p).toBe(200);
    expect(local.body).toContain('<title>longrun · dashboard</title>');
    expect(local.body).toContain(JSON.stringify({ defaultHeaders: { Authorization: bearer(t.app.devKey!) } }));
    expect(local.headers).toMatchObject({
      'x-frame-options': 'DENY',
      'content-security-policy': "frame-ancestors 'none'",
      'x-content-type-options': 'nosniff',
      'cache-control': 'no-store',
    });
  }
  // Another site's name for 127.0.0.1 (DNS rebinding), or this machine's page asked for by another name.
  const remote = await get('/dashboard', `evil.example:${port}`);
  expect(remote.status).toBe(200);
  expect(remote.body).toContain('window.LONGRUN = {}');
  expect(remote.body).not.toContain('Bearer');
  expect(remote.headers).toMatchObject({ 'x-frame-options': 'DENY', 'content-security-policy': "frame-ancestors 'none'" });
  // Its script comes from this server.
  const script = /<script type="module" crossorigin src="([^"]+)"/.exec(remote.body)?.[1];
  expect(script).toMatch(/^\/graphiql\/assets\/dashboard-/);
  expect((await get(script!, `127.0.0.1:${port}`)).status).toBe(200);
});

it('shows a dead letter, retries it until it leaves the dead letters and succeeds; pauses a type', async () => {
  const devKey = { authorization: bearer(t.app.devKey!) };
  const submitted = await gql(t.url, SUBMIT, { input: { type: 'test.replayable', payload: {} } }, devKey);
  const id: string = submitted.body.data.submitJob.job.id;
  await eventually(async () => {
    const r = await gql(t.url, '{ deadLetters(type: "test.replayable") { edges { node { id } } } }', {}, devKey);
    return r.body.data?.deadLetters.edges.some((e: { node: { id: string } }) => e.node.id === id);
  }, 'the job among the dead letters');

  const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
  const page = await context.newPage();
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  try {
    await page.goto(dashboardUrl);
    await expect.poll(() => page.locator('#key-source').innerText()).toBe('using the development key');

    // The type's row: one failed, one dead letter.
    const typeRow = page.locator('#queues tr', { hasText: 'test.replayable' });
    await typeRow.waitFor();
    const cells = await typeRow.locator('td').allInnerTexts();
    expect(cells.slice(0, 8)).toEqual(['test.replayable', '0', '0', '0', '0', '1', '1', '1']);
    expect(cells[10]).toBe('100/1000ms'); // its rate limit; a type without one shows none
    expect(await page.locator('#queues tr', { hasText: 'demo.noop' }).locator('td').nth(10).innerText()).toBe('');
    // An admin's override of it is shown as such once the page reads the stats again (its periodic refresh).
    const SET_LIMIT = 'mutation { setJobTypeRateLimit(type: "test.replayable", rateLimit: { max: 100, perMs: 1000, burst: 50 }) { userErrors { code } } }';
    expect((await gql(t.url, SET_LIMIT, {}, devKey)).body.data.setJobTypeRateLimit.userErrors).toEqual([]);
    await expect.poll(() => typeRow.locator('td').nth(10).innerText(), { timeout: 15_000 }).toBe('100/1000ms,burst=50 (override)');

    // The dead letter, its error as the text the handler threw.
    const deadRow = page.locator('#dead-letters tr', { hasText: id });
    await deadRow.waitFor();
    expect(await deadRow.locator('td').nth(1).innerText()).toBe('test.replayable');
    expect(await deadRow.locator('td.error').innerText()).toBe(ERROR);
    expect(await page.locator('#dead-letters img').count()).toBe(0);

    // Its id opens the job.
    await deadRow.getByRole('button', { name: id, exact: true }).click();
    await expect.poll(() => page.locator('#job').innerText()).toContain('FAILED');
    expect(await page.locator('#job pre').first().innerText()).toBe(ERROR);

    // Retry: it runs again, leaves the dead letters, and the open job shows SUCCEEDED.
    refusing = false;
    await deadRow.getByRole('button', { name: `Retry ${id}` }).click();
    await expect.poll(() => page.locator('#dead-letters').innerText(), { timeout: 30_000 }).not.toContain(id);
    await expect.poll(() => page.locator('#job tr', { hasText: 'state' }).first().innerText(), { timeout: 30_000 }).toContain('SUCCEEDED');
    expect(await page.locator('#job').innerText()).toContain('"replayed": true');
    expect(await page.locator('#status').innerText()).toBe(`Retry ${id}: done`);

    // Pause and Resume the type (the development key is an admin's).
    await typeRow.getByRole('button', { name: 'Pause test.replayable' }).click();
    await expect.poll(() => typeRow.locator('td').nth(9).innerText()).toBe('paused');
    const stats = await gql(t.url, '{ queueStats { type paused } }', {}, devKey);
    expect(stats.body.data.queueStats).toContainEqual({ type: 'test.replayable', paused: true });
    await typeRow.getByRole('button', { name: 'Resume test.replayable' }).click();
    await expect.poll(() => typeRow.locator('td').nth(9).innerText()).toBe('');

    await mkdir(path.join(root, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'test-artifacts/dashboard.png'), fullPage: true });

    // A key typed in that the server refuses: said on the page.
    await page.locator('#key').fill('lr_0000000000000000_wrong');
    await page.getByRole('button', { name: 'Use key' }).click();
    await expect.poll(() => page.locator('#status').innerText()).toContain('UNAUTHENTICATED');
    expect(await page.locator('#status').getAttribute('class')).toBe('error');
    await page.getByRole('button', { name: 'Forget key' }).click();
    await expect.poll(() => page.locator('#key-source').innerText()).toBe('using the development key');

    const external = urls.filter((u) => !/^https?:\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(u) && !/^(data|blob):/.test(u));
    expect(external).toEqual([]);
  } finally {
    await context.close();
  }
}, 120_000);
