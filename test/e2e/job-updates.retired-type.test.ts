/**
 * A job type removed (or renamed) in a deploy while jobs of it were left: `jobs` and `queueStats` list them,
 * and a dashboard can watch them with `jobUpdates(filter: { types: [it] })` too, for as long as the viewer has
 * jobs of it queued, running, retrying or failed. A type with no such jobs (a typo, another owner's leftovers,
 * or once they are done with) is refused with BAD_USER_INPUT, as before.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { markFailed } from '../../src/db/transitions.js';
import { bearer, collect, gql, SUBMIT, wsClient } from '../support/graphql.js';
import { createTestEnv, startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { eventually } from '../support/receivers.js';

const legacy = defineJobType({ name: 'reports.legacy', description: 'retired in the next deploy', payload: z.object({}) });
const UPDATES = `subscription U($types: [String!]) { jobUpdates(filter: { types: $types }) { jobId type state } }`;
const PURGE = `mutation { purgeJobs(input: { olderThanSeconds: 0 }) { purged } }`;
const CANCEL = `mutation C($id: ID!) { cancelJob(id: $id) { job { state } userErrors { code } } }`;

/** The deploy after the one that had `reports.legacy`: two of alice's jobs of it are left QUEUED. */
const f = useFixture(async (later) => {
  const env = await createTestEnv();
  later(() => env.dispose());
  const old = await startTestApp({ env, types: [...BUILTIN_JOB_TYPES, legacy], handlers: null });
  const alice = (await old.createKey('alice')).key;
  const bob = (await old.createKey('bob')).key;
  const leftovers: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = await gql(old.url, SUBMIT, { input: { type: 'reports.legacy', payload: {} } }, { authorization: bearer(alice) });
    leftovers.push(r.body.data.submitJob.job.id);
  }
  await old.dispose();
  const next = await startTestApp({ env, handlers: null });
  later(() => next.dispose());
  return { next, alice, bob, leftovers };
});

/** The errors a `jobUpdates` of these types is refused with, for this key (none: it was accepted). */
async function refusal(types: string[], key: string): Promise<unknown[]> {
  const { hub } = f.next.app;
  await eventually(() => hub.listenerCount === 0, 10_000, 'the earlier subscriptions to end');
  const client = wsClient(f.next.wsUrl, { authorization: bearer(key) });
  try {
    const it = client.iterate({ query: UPDATES, variables: { types } });
    // Refused: a result with the errors comes (however slowly); accepted: the server listens for updates.
    const answer = it.next();
    let answered = false;
    answer.then(() => (answered = true), () => (answered = true));
    const listening = (async () => {
      while (!answered && hub.listenerCount === 0) await new Promise((r) => setTimeout(r, 20));
      return null;
    })();
    const first = await Promise.race([answer, listening]);
    await it.return?.();
    return first?.done === false ? [...(first.value.errors ?? [])] : [];
  } finally {
    await client.dispose();
  }
}

const unknown = (type: string) => [expect.objectContaining({ message: `unknown job type ${JSON.stringify(type)}`, extensions: { code: 'BAD_USER_INPUT' } })];

it('watches the leftover jobs of a type the server no longer has, while the viewer has some left', async () => {
  const { next, alice, bob, leftovers } = f;
  const [cancelled, failed] = leftovers as [string, string];
  expect((await gql(next.url, '{ jobTypes { name } }')).body.data.jobTypes.map((t: { name: string }) => t.name)).not.toContain('reports.legacy');

  // Refused: bob has no jobs of it (alice's do not count for him), a typo, a name no type can have.
  expect(await refusal(['reports.legacy'], bob)).toEqual(unknown('reports.legacy'));
  expect(await refusal(['demo.slep'], alice)).toEqual(unknown('demo.slep'));
  expect(await refusal(['demo.sleep', 'job.*'], alice)).toEqual(unknown('job.*'));

  // Alice's dashboard watches reports.legacy and sees one of her leftover jobs cancelled.
  expect(await refusal(['reports.legacy'], alice)).toEqual([]);
  expect(await refusal(['reports.legacy', 'job.*'], alice)).toEqual(unknown('job.*'));
  await eventually(() => next.app.hub.listenerCount === 0, 10_000, 'the earlier subscriptions to end');
  const client = wsClient(next.wsUrl, { authorization: bearer(alice) });
  const watched = collect(client, UPDATES, { types: ['reports.legacy'] }, () => void client.dispose());
  await eventually(() => next.app.hub.listenerCount > 0, 10_000, 'the subscription to listen');
  expect((await gql(next.url, CANCEL, { id: cancelled }, { authorization: bearer(alice) })).body.data.cancelJob).toEqual({ job: { state: 'CANCELLED' }, userErrors: [] });
  const { values, errors } = await watched;
  expect(errors).toEqual([]);
  expect(values).toEqual([{ jobId: cancelled, type: 'reports.legacy', state: 'CANCELLED' }]);

  // A FAILED one is left over too (queueStats counts it); once it is purged, nothing of the type is left.
  await markFailed(next.app.deps.sql, { id: failed, error: 'deliveries exhausted', attemptFailed: false });
  expect(await refusal(['reports.legacy'], alice)).toEqual([]);
  expect((await gql(next.url, PURGE)).body.data.purgeJobs.purged).toBe(2);
  expect(await refusal(['reports.legacy'], alice)).toEqual(unknown('reports.legacy'));
});

it('a type named by half a megabyte is refused with a message that quotes only the start of the name', async () => {
  const errors = await refusal([`no.such.type.${'x'.repeat(500_000)}`], f.alice);
  expect(errors).toEqual([expect.objectContaining({ message: expect.stringMatching(/^unknown job type "no\.such\.type\.x+…"$/), extensions: { code: 'BAD_USER_INPUT' } })]);
  expect((errors[0] as { message: string }).message.length).toBeLessThan(1024);
});
