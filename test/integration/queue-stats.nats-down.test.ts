/**
 * queueStats while NATS is down (a private nats-server this test stops and starts): the counts come from
 * PostgreSQL, and an admin's dead-letter count, read from the dead-letter stream when NATS answers, falls
 * back to the dead letters PostgreSQL records instead of failing the whole query.
 */
import { expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { useAppOnPrivateNats } from '../support/private-nats-app.js';

const s = useAppOnPrivateNats();

const STATS = `{ queueStats { type queued failed deadLetters } }`;
const flakyStats = async () => {
  const r = await gql(s.t.url, STATS);
  return { errors: r.body.errors, flaky: r.body.data?.queueStats?.find((x: { type: string }) => x.type === 'demo.flaky') };
};

it('answers queueStats from PostgreSQL while NATS is down, dead letters included', async () => {
  const r = await gql(s.t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { failures: 1, permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  await waitForJob(s.t.url, id, (j) => j.state === 'FAILED');
  await eventually(async () => (await flakyStats()).flaky?.deadLetters === 1, 30_000, 'dead letter counted');
  expect(await flakyStats()).toEqual({ errors: undefined, flaky: { type: 'demo.flaky', queued: 0, failed: 1, deadLetters: 1 } });

  await s.nats.stop();
  try {
    expect(await flakyStats()).toEqual({ errors: undefined, flaky: { type: 'demo.flaky', queued: 0, failed: 1, deadLetters: 1 } });
  } finally {
    await s.nats.start();
  }
});
