/**
 * Subscribers that send the same operation share one execution and one serialisation of each event, also
 * when they differ only in what the subscription field's own arguments say: where to start (`since`,
 * `lastSeenAt`, `after`) and which events to get (`filter`, `id`). Those choose the events; every
 * subscription field's result is the event itself (resolvers.ts), so they cannot change what an event
 * serialises to. A variable used anywhere else in the operation still tells results apart.
 */
import { parse, type ExecutionArgs } from 'graphql';
import { expect, it } from 'vitest';
import { buildSchema } from '../../src/graphql/schema.js';
import { sharedPayloads } from '../../src/graphql/shared-results.js';

const schema = buildSchema();
const UPDATES = parse(`subscription U($filter: JobUpdatesFilter, $since: DateTime, $lastSeenAt: DateTime) {
  jobUpdates(filter: $filter, since: $since, lastSeenAt: $lastSeenAt) { jobId seq state progress message at }
}`);

/** An event whose `state` counts how often an execution read it. */
function countingEvent(): { event: object; reads: () => number } {
  let reads = 0;
  const event = {
    jobId: '6f1c1a3e-0000-4000-8000-000000000001',
    type: 'demo.noop',
    owner: 'o',
    seq: 3,
    get state() {
      reads++;
      return 'SUCCEEDED';
    },
    progress: 100,
    message: null,
    attempt: 1,
    at: '2026-12-02T12:00:00.000Z',
    result: null,
    error: null,
  };
  return { event, reads: () => reads };
}

const payloadsOf = (document: ExecutionArgs['document'], variableValues: Record<string, unknown>) =>
  sharedPayloads({ schema, document, variableValues, contextValue: {} }, (r) => r);

it('shares one execution between subscribers that start from different instants or filter differently', async () => {
  const { event, reads } = countingEvent();
  const a = payloadsOf(UPDATES, { since: '2026-12-02T11:59:00.000Z' });
  const b = payloadsOf(UPDATES, { since: '2026-12-02T11:59:30.123Z' });
  const c = payloadsOf(UPDATES, { lastSeenAt: '2026-12-02T11:58:00.000Z', filter: { types: ['demo.noop'] } });
  const results = [await a(event), await b(event), await c(event)];
  expect(results.map((r) => JSON.parse(r).data.jobUpdates.state)).toEqual(['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  expect(reads()).toBe(1);
});

it('executes apart when a variable is used beyond the subscription field’s arguments', async () => {
  const doc = parse(`subscription U($since: DateTime, $withMessage: Boolean!) {
    jobUpdates(since: $since) { jobId state message @include(if: $withMessage) }
  }`);
  const { event, reads } = countingEvent();
  const withMessage = await payloadsOf(doc, { since: '2026-12-02T11:59:00.000Z', withMessage: true })(event);
  const without = await payloadsOf(doc, { since: '2026-12-02T11:59:00.000Z', withMessage: false })(event);
  expect('message' in JSON.parse(withMessage).data.jobUpdates).toBe(true);
  expect('message' in JSON.parse(without).data.jobUpdates).toBe(false);
  expect(reads()).toBe(2);
});
