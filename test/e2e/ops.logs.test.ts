/**
 * Structured logs: JSON lines carrying the request id (given in `x-request-id`, or made up and echoed), the
 * job id, type and attempt; secrets redacted.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

const lines: Record<string, any>[] = [];
const log = createLogger('info', 'longrun', { write: (s: string) => void lines.push(JSON.parse(s)) });

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ log });
});
afterAll(async () => {
  await t?.dispose();
});

async function post(headers: Record<string, string>, input: Record<string, unknown>) {
  const res = await fetch(t.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: bearer(t.key!), ...headers },
    body: JSON.stringify({ query: SUBMIT, variables: { input } }),
  });
  return { requestId: res.headers.get('x-request-id'), body: (await res.json()) as any };
}

describe('logs', () => {
  it('carry the request id, the job id, type, attempt and trace id', async () => {
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const r = await post({ 'x-request-id': 'req-abc-123', traceparent: `00-${traceId}-00f067aa0ba902b7-01` }, { type: 'demo.flaky', payload: { failures: 1 }, maxAttempts: 2 });
    expect(r.requestId).toBe('req-abc-123');
    const id = r.body.data.submitJob.job.id;
    const submitted = lines.find((l) => l.msg === 'job submitted' && l.jobId === id);
    expect(submitted).toMatchObject({ level: 30, name: 'longrun', requestId: 'req-abc-123', jobId: id, type: 'demo.flaky' });

    await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
    const failed = await eventually(() => lines.find((l) => l.jobId === id && /attempt failed/.test(l.msg)), 10_000, 'attempt log');
    expect(failed).toMatchObject({ jobId: id, type: 'demo.flaky', attempt: 1, traceId });

    const other = await post({}, { type: 'demo.sleep', payload: { ms: 1, steps: 1 } });
    expect(other.requestId).toMatch(/^[\da-f-]{36}$/);
    expect(lines.find((l) => l.msg === 'job submitted' && l.jobId === other.body.data.submitJob.job.id)?.requestId).toBe(other.requestId);
  });

  it('redact secrets', () => {
    log.info(
      {
        config: { WEBHOOK_SECRET: 'hush', WEBHOOK_SECRET_PREVIOUS: 'hush-old', SMTP_URL: 'smtp://u:p@mail', DATABASE_URL: 'postgres://u:p@db/x', NATS_URL: 'nats://u:p@nats:4222' },
        req: { headers: { authorization: 'Bearer t' } },
        headers: { 'longrun-signature': 'sha256=abc', 'longrun-signature-v2': 't=1,sha256=def' },
        user: { password: 'pw', token: 'tk' },
      },
      'with secrets',
    );
    const line = lines.find((l) => l.msg === 'with secrets')!;
    expect(JSON.stringify(line)).not.toMatch(/hush|u:p@|Bearer t|sha256=abc|sha256=def|"pw"|"tk"/);
    expect(line.config.WEBHOOK_SECRET).toBe('[redacted]');
    expect(line.config.WEBHOOK_SECRET_PREVIOUS).toBe('[redacted]');
    expect(line.headers['longrun-signature']).toBe('[redacted]');
    expect(line.headers['longrun-signature-v2']).toBe('[redacted]');
  });
});
