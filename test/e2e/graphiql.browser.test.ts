/**
 * GraphiQL in headless Chromium: open the API's URL, submit with the default "SubmitJob" tab, run the "Watch"
 * subscription tab for that job, and see progress results appear until SUCCEEDED, with no request leaving
 * the machine. A screenshot is saved to test-artifacts/graphiql.png. Workers start once the subscription
 * shows the QUEUED job, so the page sees the whole run however slow the machine is.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';
import { ensurePagesBuilt } from '../support/pages.js';

const root = path.resolve(import.meta.dirname, '../..');
const CHROMIUM_FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let t: TestApp;
let browser: Browser;
let workers: WorkerSwitch;
beforeAll(async () => {
  // The page is served from dist/graphiql: build it when missing or out of date (`npm run build:graphiql`).
  await ensurePagesBuilt();
  t = await startTestApp({ handlers: null });
  workers = workerSwitch(t);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: CHROMIUM_FLAGS });
});
afterAll(async () => {
  await workers?.stop();
  await browser?.close();
  await t?.dispose();
});

/**
 * The text of the Monaco model whose URI ends with `suffix` (operation.graphql, variables.json,
 * request-headers.json, response.json).
 */
const readEditor = (page: Page, suffix: string) =>
  page.evaluate((s) => {
    const monaco = (globalThis as any).__MONACO;
    return (monaco.editor.getModels() as any[]).find((m) => m.uri.path.endsWith(s))?.getValue() as string;
  }, suffix);

const writeEditor = (page: Page, suffix: string, value: string) =>
  page.evaluate(
    ([s, v]) => {
      const monaco = (globalThis as any).__MONACO;
      (monaco.editor.getModels() as any[]).find((m) => m.uri.path.endsWith(s!)).setValue(v);
    },
    [suffix, value],
  );

/** The Headers editor's text that authenticates as the test app's admin key. */
const keyHeaders = () => JSON.stringify({ Authorization: `Bearer ${t.key}` });

it('submits a job and watches its live progress until SUCCEEDED, all from loopback', async () => {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  const page = await context.newPage();
  const urls: string[] = [];
  page.on('request', (r) => urls.push(r.url()));
  /** Every jobProgress result the page received over graphql-ws (the response pane shows only the latest). */
  const frames: { state: string; progress: number }[] = [];
  page.on('websocket', (ws) => {
    urls.push(ws.url());
    ws.on('framereceived', ({ payload }) => {
      const m = JSON.parse(String(payload));
      if (m.type === 'next' && m.payload?.data?.jobProgress) frames.push(m.payload.data.jobProgress);
    });
  });
  try {
    await page.goto(t.url);
    await page.locator('.graphiql-execute-button').waitFor({ state: 'visible' });
    await page.waitForFunction(() =>
      (globalThis as any).__MONACO?.editor.getModels().some((m: any) => m.uri.path.endsWith('operation.graphql')),
    );
    expect(await page.locator('.graphiql-tab-button').allInnerTexts()).toEqual(['SubmitJob', 'Watch']);
    expect(await page.locator('.graphiql-tab-active').innerText()).toBe('SubmitJob');
    // Each tab has its own headers: the test app's key, sent on HTTP and as graphql-ws connectionParams.
    await writeEditor(page, 'request-headers.json', keyHeaders());

    // Tab 1: the submitJob mutation as shipped.
    await page.locator('.graphiql-execute-button').click();
    await page.waitForFunction(() => {
      const m = (globalThis as any).__MONACO.editor.getModels().find((x: any) => x.uri.path.endsWith('response.json'));
      return /"id":/.test(m?.getValue() ?? '');
    });
    const submitted = JSON.parse(await readEditor(page, 'response.json'));
    const id: string = submitted.data.submitJob.job.id;
    expect(submitted.data.submitJob).toMatchObject({ job: { state: 'QUEUED' }, userErrors: [] });

    // Tab 2: the Watch subscription for that job.
    await page.locator('.graphiql-tab-button', { hasText: 'Watch' }).click();
    await page.waitForFunction(() =>
      (globalThis as any).__MONACO.editor.getModels().find((x: any) => x.uri.path.endsWith('operation.graphql'))?.getValue().includes('subscription Watch'),
    );
    await writeEditor(page, 'variables.json', JSON.stringify({ id }));
    await writeEditor(page, 'request-headers.json', keyHeaders());
    // GraphiQL reads a tab's operation name from its editor 100 ms (debounced) after the tab opens; a run
    // before that goes out under the previous tab's name and is answered "Unknown operation named
    // SubmitJob". Run it until it is answered with the job's progress (on a busy machine the debounce can
    // take longer than any fixed wait).
    for (let runs = 1; ; runs++) {
      await page.locator('.graphiql-execute-button').click();
      const answer = await page.waitForFunction(() => {
        const m = (globalThis as any).__MONACO.editor.getModels().find((x: any) => x.uri.path.endsWith('response.json'));
        const text: string = m?.getValue() ?? '';
        return /jobProgress|Unknown operation/.test(text) ? text : false;
      });
      const text = (await answer.jsonValue()) as string;
      if (!text.includes('Unknown operation')) break;
      expect(runs).toBeLessThan(20);
    }

    // The response pane shows the latest payload: wait for the QUEUED snapshot, start the workers, then
    // sample the pane until SUCCEEDED.
    const pane = async () => {
      try {
        return JSON.parse(await readEditor(page, 'response.json')).data?.jobProgress as { state: string; progress: number } | undefined;
      } catch {
        return undefined; // the pane may hold the previous tab's response or be mid-update
      }
    };
    const seen: { state: string; progress: number }[] = [];
    const deadline = Date.now() + 50_000;
    while (Date.now() < deadline && (await pane())?.state !== 'QUEUED') await page.waitForTimeout(50);
    await workers.start();
    while (Date.now() < deadline) {
      const u = await pane();
      if (u && (seen.at(-1)?.state !== u.state || seen.at(-1)?.progress !== u.progress)) seen.push(u);
      if (u?.state === 'SUCCEEDED') break;
      await page.waitForTimeout(50);
    }
    expect(seen[0]).toMatchObject({ state: 'QUEUED', progress: 0 });
    expect(seen.at(-1)).toMatchObject({ state: 'SUCCEEDED', progress: 100 });
    expect(seen.some((u) => u.state === 'RUNNING')).toBe(true);
    const progress = frames.filter((u) => u.state === 'RUNNING').map((u) => u.progress);
    expect(progress.filter((p) => p > 0 && p < 100).length).toBeGreaterThanOrEqual(5);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    await page.locator('.graphiql-execute-button[aria-label="Execute query (Ctrl-Enter)"]').waitFor();

    await mkdir(path.join(root, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: path.join(root, 'test-artifacts/graphiql.png') });

    const external = urls.filter((u) => !/^(wss?|https?):\/\/(127\.0\.0\.1|localhost|\[::1\])(:\d+)?\//.test(u) && !/^(data|blob):/.test(u));
    expect(external).toEqual([]);
    expect(urls.some((u) => u.startsWith('ws://127.0.0.1'))).toBe(true);
  } finally {
    await context.close();
  }
}, 120_000);
