/**
 * A `watchJob` whose signal aborts while its caller is not waiting on it (busy with the last update, or done
 * reading without calling return()) ends its subscription on the server at once, as it did before the
 * abort-while-connecting change: that change only ended a wait in progress, so the subscription (and its
 * work on the server) stayed until the caller's next next(), which might never come.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createClient } from '../../sdk/index.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

/** The server's open graphql-ws subscriptions, as /metrics reports them. */
const subscriptions = async () => {
  const text = await (await fetch(new URL('/metrics', t.url))).text();
  return Number(/^longrun_graphql_ws_subscriptions (\S+)$/m.exec(text)?.[1]);
};

it('ends the subscription on the server when the signal aborts between two reads', async () => {
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const client = createClient({ url: t.url, token: t.key ?? undefined });
  try {
    const abort = new AbortController();
    const watch = client.watchJob(id, { signal: abort.signal });
    expect((await watch.next()).value).toMatchObject({ state: 'QUEUED' });
    await eventually(async () => (await subscriptions()) === 1, 10_000, 'the subscription is open');

    abort.abort(); // the caller holds the update it read and asks for no more
    await eventually(async () => (await subscriptions()) === 0, 10_000, 'the subscription ends on the server');
  } finally {
    await client.close();
  }
});
