/**
 * `GET /metrics`, scraped before and after a burst of jobs, a retry, a dead letter and a notification: the
 * counters, histograms and gauges move by what happened.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, PROGRESS, waitForJob, wsClient } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';

const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) { submitJob(input: $input) { job { id } userErrors { code } } }
`;

let t: TestApp;
let receiver: WebhookReceiver;
let pool: WorkerPool | null = null;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  // No workers at first, so queued jobs stay in the queue.
  t = await startTestApp({ handlers: null, config: { WEBHOOK_SECRET: 'metrics-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1' } });
});
afterAll(async () => {
  await pool?.stop(2000);
  await t?.dispose();
  await receiver?.close();
});

type Samples = { name: string; labels: Record<string, string>; value: number }[];

async function scrape(): Promise<{ text: string; samples: Samples; contentType: string }> {
  const res = await fetch(new URL('/metrics', t.url));
  expect(res.status).toBe(200);
  const text = await res.text();
  const samples: Samples = [];
  for (const line of text.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) continue;
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    samples.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return { text, samples, contentType: res.headers.get('content-type') ?? '' };
}

/** Sum of the samples of `name` whose labels include `labels`. */
const value = (s: Samples, name: string, labels: Record<string, string> = {}) =>
  s.filter((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v)).reduce((a, x) => a + x.value, 0);

async function submit(input: Record<string, unknown>): Promise<string> {
  const r = await gql(t.url, SUBMIT, { input });
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job.id;
}

describe('/metrics', () => {
  it('moves with a burst of jobs, a retry, a dead letter and a notification', async () => {
    const before = await scrape();
    expect(before.contentType).toMatch(/^text\/plain/);
    expect(before.text).toMatch(/^process_cpu_user_seconds_total /m);
    expect(before.text).toMatch(/^nodejs_heap_size_used_bytes /m);
    const b = before.samples;

    const sleeps = await Promise.all(
      Array.from({ length: 5 }, (_, i) => submit({ type: 'demo.sleep', payload: { ms: 20, steps: 1 }, ...(i === 0 ? { notify: [{ webhook: `${receiver.url}/m` }] } : {}) })),
    );
    const flaky = await submit({ type: 'demo.flaky', payload: { failures: 1 }, maxAttempts: 2 });
    const dead = await submit({ type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 1 });

    // Queued, no worker: the queue depth counts them.
    const queued = await eventually(async () => {
      const s = (await scrape()).samples;
      return value(s, 'longrun_queue_depth', { type: 'demo.sleep' }) === 5 && value(s, 'longrun_queue_depth', { type: 'demo.flaky' }) === 2 ? s : undefined;
    }, 20_000, 'queue depth 5 + 2');
    expect(value(queued, 'longrun_jobs_submitted_total', { type: 'demo.sleep' }) - value(b, 'longrun_jobs_submitted_total', { type: 'demo.sleep' })).toBe(5);
    expect(value(queued, 'longrun_jobs_submitted_total', { type: 'demo.flaky' }) - value(b, 'longrun_jobs_submitted_total', { type: 'demo.flaky' })).toBe(2);

    // A live subscription is counted while it is open.
    const client = wsClient(t.wsUrl);
    const sub = client.iterate({ query: PROGRESS, variables: { id: sleeps[1] } });
    await sub.next();
    const open = (await scrape()).samples;
    expect(value(open, 'longrun_graphql_ws_connections')).toBe(1);
    expect(value(open, 'longrun_graphql_ws_subscriptions')).toBe(1);

    pool = await startWorkerPool(t.config, t.app.deps);
    for (const id of sleeps) await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED');
    await waitForJob(t.url, flaky, (j) => j.state === 'SUCCEEDED');
    await waitForJob(t.url, dead, (j) => j.state === 'FAILED');
    await sub.return?.();
    await client.dispose();

    const after = await eventually(async () => {
      const s = (await scrape()).samples;
      const sent = value(s, 'longrun_notification_deliveries_total', { channel: 'webhook', outcome: 'sent' }) -
        value(b, 'longrun_notification_deliveries_total', { channel: 'webhook', outcome: 'sent' });
      const dlq = value(s, 'longrun_dead_letter_messages') - value(b, 'longrun_dead_letter_messages');
      return sent === 1 && dlq === 1 && value(s, 'longrun_queue_depth') === 0 && value(s, 'longrun_graphql_ws_connections') === 0 ? s : undefined;
    }, 30_000, 'notification sent, dead letter counted, queues empty');
    const delta = (name: string, labels: Record<string, string> = {}) => value(after, name, labels) - value(b, name, labels);

    expect(delta('longrun_jobs_finished_total', { type: 'demo.sleep', outcome: 'succeeded' })).toBe(5);
    expect(delta('longrun_jobs_finished_total', { type: 'demo.flaky', outcome: 'succeeded' })).toBe(1);
    expect(delta('longrun_jobs_finished_total', { type: 'demo.flaky', outcome: 'failed' })).toBe(1);
    expect(delta('longrun_job_duration_seconds_count', { type: 'demo.sleep', outcome: 'succeeded' })).toBe(5);
    expect(delta('longrun_job_queue_wait_seconds_count', { type: 'demo.sleep' })).toBe(5);
    expect(delta('longrun_job_queue_wait_seconds_count', { type: 'demo.flaky' })).toBe(2);
    expect(delta('longrun_job_retries_total', { type: 'demo.flaky' })).toBe(1);
    expect(delta('longrun_redeliveries_total', { type: 'demo.flaky' })).toBe(1);
    expect(delta('longrun_redeliveries_total', { type: 'demo.sleep' })).toBe(0);
    expect(delta('longrun_notification_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(value(after, 'longrun_graphql_ws_subscriptions')).toBe(0);
    expect(value(after, 'longrun_outbox_backlog')).toBe(0);
    expect(value(after, 'longrun_outbox_oldest_age_seconds')).toBe(0);
  });

  it('counts a job’s queue wait once: not again when retryJob replays it', async () => {
    pool ??= await startWorkerPool(t.config, t.app.deps);
    const count = async () => value((await scrape()).samples, 'longrun_job_queue_wait_seconds_count', { type: 'demo.flaky' });
    const before = await count();
    const id = await submit({ type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 1 });
    await waitForJob(t.url, id, (j) => j.state === 'FAILED');
    expect(await count()).toBe(before + 1);
    const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { id } userErrors { code } } }`, { id });
    expect(retried.body.data.retryJob.userErrors).toEqual([]);
    await waitForJob(t.url, id, (j) => j.state === 'FAILED' && j.events.some((e: { message: string | null }) => e.message === 'replayed'));
    expect(await count()).toBe(before + 1);
  });
});
