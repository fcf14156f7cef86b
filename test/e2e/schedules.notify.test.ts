/**
 * A schedule's `notify`: each run's job gets the notifications, as a submitted job with `notify` does (the
 * webhook is POSTed once per job when it finishes); a bad entry refuses the schedule with nothing stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql } from '../support/graphql.js';
import { eventually, startWebhookReceiver, type WebhookReceiver } from '../support/receivers.js';

const UPSERT = /* GraphQL */ `
  mutation ($input: ScheduleInput!) {
    upsertSchedule(input: $input) { schedule { name notify { channel target on } } userErrors { code field message } }
  }`;
const DELETE = /* GraphQL */ `mutation ($name: String!) { deleteSchedule(name: $name) { schedule { runs } userErrors { code } } }`;
const NOTIFICATIONS = /* GraphQL */ `
  query ($id: ID!) { job(id: $id) { state notifications { channel target jobState status } } }`;

let t: TestApp;
let receiver: WebhookReceiver;
beforeAll(async () => {
  receiver = await startWebhookReceiver();
  t = await startTestApp({ config: { WEBHOOK_SECRET: 'test-webhook-secret-0123456789', WEBHOOK_ALLOW_PRIVATE: '1' } });
});
afterAll(async () => {
  await t?.dispose();
  await receiver?.close();
});

async function dataOf(query: string, variables: Record<string, unknown>): Promise<any> {
  const { body } = await gql(t.url, query, variables);
  if (body.errors) throw new Error(JSON.stringify(body.errors));
  return body.data;
}

it("sends each run's job's notifications once it finishes", async () => {
  const hook = `${receiver.url}/runs`;
  const made = (await dataOf(UPSERT, { input: { name: 'notified', type: 'demo.noop', cron: '* * * * * *', notify: [{ webhook: hook, on: ['SUCCEEDED'] }] } })).upsertSchedule;
  expect(made.userErrors).toEqual([]);
  expect(made.schedule.notify).toEqual([{ channel: 'WEBHOOK', target: hook, on: ['SUCCEEDED'] }]);

  await eventually(async () => (await t.env.sql`select 1 from jobs where idempotency_key like 'schedule:notified:%'`).length >= 2, 30_000, 'two runs');
  const { runs } = (await dataOf(DELETE, { name: 'notified' })).deleteSchedule.schedule;
  const ids = (await t.env.sql<{ id: string }[]>`select id from jobs where idempotency_key like 'schedule:notified:%'`).map((r) => r.id);
  expect(ids).toHaveLength(runs);

  for (const id of ids) {
    const job = await eventually(async () => {
      const j = (await dataOf(NOTIFICATIONS, { id })).job;
      return j.notifications.length === 1 && j.notifications[0].status === 'SENT' && j;
    }, 30_000, `the notification of ${id}`);
    expect(job).toEqual({ state: 'SUCCEEDED', notifications: [{ channel: 'WEBHOOK', target: hook, jobState: 'SUCCEEDED', status: 'SENT' }] });
  }
  const posted = receiver.requests.filter((r) => r.path === '/runs').map((r) => JSON.parse(r.raw).job.id as string);
  expect(posted.sort()).toEqual([...ids].sort());
});

it('refuses a bad notify entry on its field, storing nothing', async () => {
  const r = (await dataOf(UPSERT, { input: { name: 'bad-notify', type: 'demo.noop', cron: '@daily', notify: [{ webhook: 'ftp://example.com/x' }] } })).upsertSchedule;
  expect(r.schedule).toBeNull();
  expect(r.userErrors).toEqual([expect.objectContaining({ code: 'INVALID_WEBHOOK_URL', field: ['input', 'notify', '0', 'webhook'] })]);
  expect(await t.env.sql`select name from schedules where name = 'bad-notify'`).toEqual([]);
});
