/**
 * A worker cut off from PostgreSQL cannot take a rate-limited type's tokens, so it pulls none of the type's
 * messages: the jobs wait in the stream (not held by the worker, no delivery used) until PostgreSQL answers,
 * and then start at the limit's pace, not all at once. Here the limit is 1 per hour: of 3 jobs submitted
 * during a 3 s outage, one runs (the pull out with its token when the outage began may bring it), the other
 * two stay QUEUED in the stream.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { gql } from '../support/graphql.js';
import { useProxiedApps } from '../support/app.js';
import { eventually } from '../support/streams.js';

const hourly = defineJobType({ name: 'test.hourly', description: '1 per hour', payload: z.object({}), rateLimit: { max: 1, perMs: 3_600_000 } });
/** Jobs whose handler ran. */
const ran: string[] = [];
const handler = defineHandler(hourly, (_p, ctx) => void ran.push(ctx.jobId), { concurrency: 20 });
const types = [...BUILTIN_JOB_TYPES, hourly];
/** `direct`: the API alone; `proxied`: the worker, on PostgreSQL through the proxy. */
const f = useProxiedApps({
  service: 'DATABASE_URL',
  direct: { types, handlers: null },
  proxied: { types, handlers: [handler], config: { ACK_WAIT_MS: '60000' } },
});
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const SUBMIT_MANY = 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } } }';

it("pulls none of a rate-limited type's messages while PostgreSQL is unreachable, and keeps to the limit after", async () => {
  const { nats, names } = f.direct.app.deps;
  const consumer = () => nats.jsm.consumers.info(names.jobsStream, names.workerConsumer(hourly.name));
  await sleep(1500); // the worker's loop idle, pulling
  const release = f.proxy.hold();
  let ids: string[];
  try {
    const inputs = Array.from({ length: 3 }, () => ({ type: hourly.name, payload: {} }));
    ids = (await gql(f.direct.url, SUBMIT_MANY, { inputs })).body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
    await eventually(async () => (await consumer()).num_pending + (await consumer()).num_ack_pending === 3, 'the messages in the stream');
    await sleep(3000);
    // At most the one a pull out with its token when the outage began brought; the rest never left the stream.
    expect((await consumer()).num_ack_pending).toBeLessThanOrEqual(1);
    expect((await consumer()).num_pending).toBeGreaterThanOrEqual(2);
  } finally {
    release();
  }
  await eventually(() => ran.length >= 1, 'one job to run once PostgreSQL answers', 30_000);
  await sleep(1500); // time for the others to start, were they to
  expect(ran).toHaveLength(1);
  const states = await f.env.sql<{ state: string; n: number }[]>`select state, count(*)::int as n from jobs where id = any(${ids}::uuid[]) group by state order by state`;
  expect(states).toEqual([
    { state: 'QUEUED', n: 2 },
    { state: 'SUCCEEDED', n: 1 },
  ]);
  expect((await consumer()).num_pending).toBe(2);
}, 60_000);
