/**
 * Tracing: a trace id given at submit (the W3C `traceparent` header of the HTTP request) continues through
 * the outbox, the NATS message headers and the worker: submit → publish → run → attempt, all in that trace,
 * each the child of the one before (spans caught with an in-memory exporter). The notification continues it.
 */
import { randomBytes } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { bearer, gql, waitForJob } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const exporter = new InMemorySpanExporter();
const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }
`;

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] }));
  receiver = await startWebhookReceiver();
  t = await startTestApp({ config: { WEBHOOK_SECRET: 'trace-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1' } });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
  trace.disable();
});

const parentOf = (s: ReadableSpan) => s.parentSpanContext?.spanId;

describe('tracing', () => {
  it('continues the trace given at submit in the worker and the notifier', async () => {
    const traceId = randomBytes(16).toString('hex');
    const callerSpan = randomBytes(8).toString('hex');
    const r = await gql(
      t.url,
      SUBMIT,
      { input: { type: 'demo.flaky', payload: { failures: 1 }, maxAttempts: 2, notify: [{ webhook: `${receiver.url}/t` }] } },
      // Headers given replace the helper's default key: send it along.
      { authorization: bearer(t.key!), traceparent: `00-${traceId}-${callerSpan}-01` },
    );
    const id = r.body.data.submitJob.job.id as string;
    await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');

    const spans = await eventually(() => {
      const mine = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const names = mine.map((s) => s.name);
      return names.filter((n) => n === 'longrun.run').length === 2 && names.includes('longrun.notify') ? mine : undefined;
    }, 30_000, 'worker and notifier spans');
    const one = (name: string) => spans.filter((s) => s.name === name);

    const [submit] = one('longrun.submit');
    expect(parentOf(submit!)).toBe(callerSpan);
    const jobPublish = one('longrun.publish').find((s) => parentOf(s) === submit!.spanContext().spanId);
    expect(jobPublish).toBeDefined();

    // Two deliveries (the first attempt fails and is retried), each a run with one attempt inside.
    const runs = one('longrun.run');
    for (const run of runs) expect(parentOf(run)).toBe(jobPublish!.spanContext().spanId);
    const attempts = one('longrun.attempt');
    expect(attempts.map((a) => a.attributes['longrun.attempt']).sort()).toEqual([1, 2]);
    for (const a of attempts) expect(runs.map((x) => x.spanContext().spanId)).toContain(parentOf(a));
    expect(attempts.find((a) => a.attributes['longrun.attempt'] === 1)!.status.code).toBe(2); // ERROR

    // The notification: published by the relay under the job's trace, sent by the notifier, with the header.
    const [notify] = one('longrun.notify');
    const notifyPublish = one('longrun.publish').find((s) => s.spanContext().spanId === parentOf(notify!));
    expect(notifyPublish).toBeDefined();
    const hook = receiver.requests.find((q) => q.path === '/t')!;
    expect(hook.headers.traceparent).toBe(`00-${traceId}-${notify!.spanContext().spanId}-01`);
  });
});
