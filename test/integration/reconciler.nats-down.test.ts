/**
 * A reconciler pass that finds NATS not answering checks none of its batch of stale jobs: the next pass
 * checks that batch again, instead of going on past it (the jobs in it, whose messages were lost, would then
 * wait for the pass after the reconciler had gone through every other stale job).
 */
import { expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { useAppOnPrivateNats } from '../support/private-nats-app.js';
import { eventually } from '../support/streams.js';

// No relay pass of its own in the test's time (the reconciler runs every 10th): the test runs them.
const s = useAppOnPrivateNats({ handlers: null, config: { RELAY_INTERVAL_MS: '60000', RECONCILE_AFTER_MS: '1000' } });

/** One more than a reconciler pass looks at (RECONCILE_BATCH). */
const JOBS = 201;

it('checks again, once NATS is back, the batch of stale jobs a pass could not check while it was down', async () => {
  const { relay, nats, names } = s.t.app.deps;
  const inputs = Array.from({ length: JOBS }, () => ({ type: 'demo.noop' }));
  const submitted = await gql(s.t.url, `mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { userErrors { code } } }`, { inputs });
  expect(submitted.body.data.submitJobs.userErrors).toEqual([]);
  const unpublished = async () => (await s.env.sql<{ n: number }[]>`select count(*)::int as n from outbox where published_at is null`)[0]!.n;
  await eventually(async () => (await unpublished()) === 0, 'all published');
  await nats.jsm.streams.purge(names.jobsStream); // every message lost
  await new Promise((r) => setTimeout(r, 1500)); // stale: RECONCILE_AFTER_MS

  await s.nats.stop();
  expect(await relay.reconcileOnce()).toBe(0);
  await s.nats.start();
  await eventually(async () => !!(await nats.jsm.streams.info(names.jobsStream).catch(() => null)), 'NATS answers again');

  // The first batch, not the one job after it.
  expect(await relay.reconcileOnce()).toBe(JOBS - 1);
});
