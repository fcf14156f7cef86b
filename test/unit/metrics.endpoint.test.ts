/**
 * `GET /metrics` (src/observability/metrics-endpoint.ts) on a worker's metrics server, with a gauge standing
 * in for the NATS and PostgreSQL reads: a refused request reads nothing, and scrapes that overlap share one
 * read (single-flight), and a read that fails is logged, not sent. The e2e tests
 * (test/e2e/ops.metrics-token.test.ts) run it against real services.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Gauge, Registry } from 'prom-client';
import { createLogger } from '../../src/log.js';
import { bearerCheck } from '../../src/observability/metrics-endpoint.js';
import { startMetricsServer, type MetricsServer } from '../../src/observability/metrics-server.js';

const TOKEN = 'metrics-token-0123456789';

let reads = 0;
/** While set, a read waits for it (a slow NATS). */
let hold: Promise<void> | null = null;
/** While set, a read throws it (a bug, or a source that fails outside the gauges' guard). */
let failure: Error | null = null;
const logs: { level: number; msg: string; err?: { message: string } }[] = [];
const registry = new Registry();
new Gauge({
  name: 'test_reads',
  help: 'Reads so far.',
  registers: [registry],
  async collect() {
    reads++;
    await hold;
    if (failure) throw failure;
    this.set(reads);
  },
});

let server: MetricsServer;
let url: string;
beforeAll(async () => {
  server = await startMetricsServer(0, '127.0.0.1', registry, TOKEN, createLogger('info', 'test', { write: (line: string) => void logs.push(JSON.parse(line)) }));
  url = `http://127.0.0.1:${server.port}/metrics`;
});
afterAll(async () => {
  await server?.close();
});

const scrape = (authorization?: string) => fetch(url, authorization === undefined ? {} : { headers: { authorization } });

describe('GET /metrics with METRICS_TOKEN', () => {
  it('refuses a request without the token before reading anything', async () => {
    const before = reads;
    for (const authorization of [undefined, '', 'Bearer', 'Bearer wrong-token-0123456789', `Basic ${TOKEN}`, `Bearer ${TOKEN}x`, `Bearer ${TOKEN.slice(0, -1)}`, `${TOKEN}`]) {
      const res = await scrape(authorization);
      expect(res.status, String(authorization)).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Bearer realm="metrics"');
      expect(await res.text()).toMatch(/^unauthorized/);
    }
    expect(reads).toBe(before);
    const ok = await scrape(`Bearer ${TOKEN}`);
    expect(ok.status).toBe(200);
    expect(await ok.text()).toMatch(/^test_reads \d+$/m);
    expect(reads).toBe(before + 1);
  });

  it('lets scrapes that overlap share one read', async () => {
    let release!: () => void;
    hold = new Promise((r) => (release = r));
    const before = reads;
    const first = scrape(`Bearer ${TOKEN}`);
    await expect.poll(() => reads).toBe(before + 1);
    const second = scrape(`Bearer ${TOKEN}`);
    // The second request reaches the server while the first read waits.
    await new Promise((r) => setTimeout(r, 200));
    release();
    hold = null;
    const [a, b] = await Promise.all([first, second]);
    const [ta, tb] = [await a.text(), await b.text()];
    expect(reads).toBe(before + 1);
    expect(tb).toBe(ta);
    expect(ta).toMatch(new RegExp(`^test_reads ${before + 1}$`, 'm'));
    // Once it is answered, the next scrape reads again.
    expect(await (await scrape(`Bearer ${TOKEN}`)).text()).toMatch(new RegExp(`^test_reads ${before + 2}$`, 'm'));
  });
});

describe('GET /metrics when the read fails', () => {
  it('answers 500 internal_error without the error, and logs the error', async () => {
    failure = new Error('connect ECONNREFUSED 10.1.2.3:5432 (postgres://longrun@db.internal/longrun)');
    try {
      const res = await scrape(`Bearer ${TOKEN}`);
      expect(res.status).toBe(500);
      expect(res.headers.get('content-type')).toBe('text/plain; charset=utf-8');
      expect(await res.text()).toBe("internal_error: /metrics could not be rendered; the cause is in this process's log\n");
    } finally {
      failure = null;
    }
    expect(logs.filter((l) => l.level === 50)).toEqual([
      expect.objectContaining({ msg: 'metrics: /metrics could not be rendered; answered 500', err: expect.objectContaining({ message: expect.stringContaining('db.internal') }) }),
    ]);
    expect((await scrape(`Bearer ${TOKEN}`)).status).toBe(200);
  });
});

describe('bearerCheck', () => {
  it('takes the scheme in any case and the token exactly', () => {
    const check = bearerCheck(TOKEN);
    expect(check(`Bearer ${TOKEN}`)).toBe(true);
    expect(check(`bearer ${TOKEN}`)).toBe(true);
    expect(check(`BEARER  ${TOKEN}`)).toBe(true);
    for (const h of [undefined, '', TOKEN, `Bearer ${TOKEN.toUpperCase()}`, `Bearer ${TOKEN} extra`, `Token ${TOKEN}`, `Bearer${TOKEN}`]) expect(check(h), String(h)).toBe(false);
  });
});
