/**
 * The dead-letter sweep reads the abandoned last attempts a hundred at a time, oldest lease first, and
 * leaves those a live worker still holds (cut off from PostgreSQL) to that worker. With a hundred or more
 * held (a PostgreSQL outage for a fleet of workers), every sweep read the same hundred and left them all:
 * a job whose worker really died, behind them, was never failed while the outage lasted. The sweep now
 * reads on past a page it left jobs of.
 *
 * A NATS subscriber here answers for the hundred held jobs, as their workers would.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

const SUBMIT_JOBS = /* GraphQL */ `mutation S($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { code } } }`;

it('fails a job whose worker died even behind a hundred last attempts that live workers hold', async () => {
  const inputs = Array.from({ length: 101 }, () => ({ type: 'demo.sleep', payload: { ms: 1 }, maxAttempts: 1 }));
  const r = (await gql(t.url, SUBMIT_JOBS, { inputs })).body.data.submitJobs;
  expect(r.userErrors).toEqual([]);
  const ids = r.jobs.map((j: { id: string }) => j.id) as string[];
  const held = new Set(ids.slice(0, 100));
  const lost = ids[100]!;
  // Each on its last attempt, its lease run out an hour ago; the held ones' earlier, so they come first.
  for (const [i, id] of ids.entries()) {
    await t.env.sql`update jobs set state = 'RUNNING', attempts = 1, started_at = now(),
      lease_until = now() - interval '1 hour' - ${101 - i} * interval '1 second' where id = ${id}`;
  }
  const { nats, names } = t.app.deps;
  const answers = nats.nc.subscribe(names.heldPattern, {
    callback: (_e, m) => {
      if (held.has(m.subject.slice(m.subject.lastIndexOf('.') + 1))) m.respond();
    },
  });
  try {
    await nats.nc.flush();
    await t.app.deadLetters.sweepOnce();
    const states = await t.env.sql<{ id: string; state: string }[]>`select id, state from jobs where id = any(${ids})`;
    const byId = new Map(states.map((s) => [s.id, s.state]));
    expect(byId.get(lost)).toBe('FAILED');
    expect([...held].filter((id) => byId.get(id) !== 'RUNNING')).toEqual([]);
  } finally {
    answers.unsubscribe();
  }
});
