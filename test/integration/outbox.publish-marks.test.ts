/**
 * Every entry the submitting process publishes is marked published, however its publishes and the marking
 * flushes interleave (entries of one turn are published together; marks are flushed in later turns). A
 * lost mark leaves the entry counted in `longrun_outbox_backlog` and, after the minimum age, published
 * again by the relay.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

let t: TestApp;
// The relay loop waits a minute between passes: only the submitting process publishes (and marks).
beforeAll(async () => (t = await startTestApp({ handlers: null, config: { RELAY_INTERVAL_MS: '60000' } })));
afterAll(async () => t?.dispose());

it('marks every entry it published, with submits arriving in many turns while earlier marks are flushed', async () => {
  const { sql } = t.app.deps;
  const submit = () => gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } });
  // Waves of concurrent submits, each wave started while the previous one's publishes and marks are in flight.
  const waves: Promise<unknown>[] = [];
  for (let w = 0; w < 30; w++) {
    waves.push(Promise.all(Array.from({ length: 10 }, submit)));
    await new Promise((r) => setTimeout(r, w % 3));
  }
  await Promise.all(waves);
  const unmarked = async () =>
    (await sql<{ n: number }[]>`select count(*)::int as n from outbox where published_at is null or stream_seq is null`)[0]!.n;
  // Marks commit a moment after the PubAcks: wait until the count stops changing, then it must be zero.
  let last = -1;
  for (let n = await unmarked(); n !== last; n = await unmarked()) {
    last = n;
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(last).toBe(0);
  expect((await sql<{ n: number }[]>`select count(*)::int as n from outbox`)[0]!.n).toBe(300);
});
