/**
 * METRICS_TOKEN: with it set, `GET /metrics` on the API's port and on a worker process's METRICS_PORT answers
 * only `Authorization: Bearer <token>` (401 with `WWW-Authenticate: Bearer realm="metrics"` otherwise);
 * unset, both are open as before, and a production process says so once at start. An empty token stops the
 * start. (That a refused request reads neither NATS nor PostgreSQL, and that overlapping scrapes share one
 * read: test/unit/metrics.endpoint.test.ts.)
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { createTestEnv, startTestApp, type TestApp, type TestEnv } from '../support/app.js';
import { spawnWorker, type LongrunProcess } from '../support/processes.js';
import { freePort } from '../setup/services.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TOKEN = 'metrics-token-0123456789abcdef';
const OPEN_WARNING = '/metrics is open (METRICS_TOKEN unset)';

/** A logger whose lines the test reads. */
function capturedLog(): { log: ReturnType<typeof createLogger>; lines: string[] } {
  const lines: string[] = [];
  return { log: createLogger('info', 'longrun', { write: (s: string) => void lines.push(s) }), lines };
}

let env: TestEnv;
let guarded: TestApp;
let open: TestApp;
const guardedLog = capturedLog();
const openLog = capturedLog();
let guardedWorker: LongrunProcess;
let openWorker: LongrunProcess;
let guardedWorkerUrl: string;
let openWorkerUrl: string;

beforeAll(async () => {
  env = await createTestEnv();
  const [p1, p2] = [await freePort(), await freePort()];
  guardedWorkerUrl = `http://127.0.0.1:${p1}/metrics`;
  openWorkerUrl = `http://127.0.0.1:${p2}/metrics`;
  const worker = { ...env.env, HOST: '127.0.0.1', LOG_LEVEL: 'info', NODE_ENV: 'production', WORKER_TYPES: 'demo.sleep' };
  [guarded, open, guardedWorker, openWorker] = await Promise.all([
    startTestApp({ env, handlers: null, config: { NODE_ENV: 'production', METRICS_TOKEN: TOKEN }, log: guardedLog.log }),
    startTestApp({ env, handlers: null, config: { NODE_ENV: 'production' }, log: openLog.log }),
    spawnWorker({ ...worker, METRICS_PORT: String(p1), METRICS_TOKEN: TOKEN }),
    spawnWorker({ ...worker, METRICS_PORT: String(p2) }),
  ]);
});
afterAll(async () => {
  await Promise.all([guardedWorker?.kill('SIGTERM'), openWorker?.kill('SIGTERM')]);
  await guarded?.dispose();
  await open?.dispose();
  await env?.dispose();
});

const metricsUrl = (t: TestApp) => new URL('/metrics', t.url).toString();
const scrape = (url: string, authorization?: string) => fetch(url, authorization === undefined ? {} : { headers: { authorization } });
const count = (text: string, s: string) => text.split(s).length - 1;

async function expectRefused(res: Response): Promise<void> {
  expect(res.status).toBe(401);
  expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
  expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
  const body = await res.text();
  expect(body).toMatch(/^unauthorized: /);
  expect(body).not.toMatch(/longrun_|process_/);
}

describe('METRICS_TOKEN set', () => {
  it.each([
    ['the API port', () => metricsUrl(guarded), 'longrun_outbox_backlog 0'],
    ['a worker process’s METRICS_PORT', () => guardedWorkerUrl, 'longrun_queue_depth{type="demo.sleep"} 0'],
  ])('%s: 401 without the token or with a wrong one, 200 with the metrics for Bearer <token>', async (_where, url, sample) => {
    await expectRefused(await scrape(url()));
    await expectRefused(await scrape(url(), 'Bearer wrong-token-0123456789abcdef'));
    await expectRefused(await scrape(url(), `Bearer ${TOKEN}x`));
    await expectRefused(await scrape(url(), `Basic ${Buffer.from(`prometheus:${TOKEN}`).toString('base64')}`));
    // What Prometheus' `authorization: { credentials: <token> }` sends.
    const res = await scrape(url(), `Bearer ${TOKEN}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(text.split('\n')).toContain(sample);
  });

  it('gives no warning at start in production', () => {
    expect(count(guardedLog.lines.join(''), OPEN_WARNING)).toBe(0);
    expect(count(guardedWorker.output(), OPEN_WARNING)).toBe(0);
  });
});

describe('METRICS_TOKEN unset', () => {
  it.each([
    ['the API port', () => metricsUrl(open)],
    ['a worker process’s METRICS_PORT', () => openWorkerUrl],
  ])('%s: open as before, with or without an Authorization header', async (_where, url) => {
    for (const authorization of [undefined, 'Bearer whatever']) {
      const res = await scrape(url(), authorization);
      expect(res.status).toBe(200);
      expect(await res.text()).toMatch(/^longrun_dead_letter_messages \d+$/m);
    }
  });

  it('warns once at start in production that /metrics is open', () => {
    const apiLines = openLog.lines.filter((l) => l.includes(OPEN_WARNING));
    expect(apiLines).toHaveLength(1);
    expect(JSON.parse(apiLines[0]!)).toMatchObject({ level: 40, port: Number(new URL(open.url).port) });
    expect(count(openWorker.output(), OPEN_WARNING)).toBe(1);
  });
});

describe('METRICS_TOKEN empty', () => {
  it.each([['an API process', 'src/main.ts'], ['a worker process', 'workers/main.ts']])('%s refuses to start, naming it', async (_what, entry) => {
    const run = promisify(execFile)(process.execPath, ['--import', 'tsx', entry], {
      cwd: ROOT,
      env: { ...process.env, ...env.env, METRICS_TOKEN: '', PORT: '0', METRICS_PORT: '0' },
      timeout: 60_000,
    });
    const failure = await run.then(
      () => null,
      (e: { code?: number; stderr?: string }) => e,
    );
    expect(failure?.code).toBe(1);
    expect(failure?.stderr).toMatch(/^longrun( worker)?: invalid METRICS_TOKEN \(0 characters, not shown\): empty; set a token \(16\+ characters\) or leave METRICS_TOKEN unset for an open \/metrics\n$/);
  });
});
