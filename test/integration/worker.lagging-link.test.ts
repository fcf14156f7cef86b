/**
 * A worker whose link to NATS is slow (every byte arrives 0.6 s late, both ways, in order: a long or congested
 * network): every job still runs, on its first delivery. A message the server sends for a pull after the
 * worker has stopped listening for it reaches no one and waits unacked for the AckWait (here ten minutes, far
 * beyond the test's wait), its job QUEUED meanwhile. nats.js `fetch` gave every pull up after two missed idle
 * heartbeats (no word for about a second, which a round trip of 1.2 s always is). The pulls themselves over
 * shorter round trips: pull.lagging-link.test.ts.
 *
 * The jobs come one by one, 100 ms apart, so that some reach the stream as a pull is about to end.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { useProxiedApps } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const quickJob = defineJobType({ name: 'test.quick', description: 'returns at once', payload: z.object({}) });
const quickHandler = defineHandler(quickJob, async () => null);
const types = [...BUILTIN_JOB_TYPES, quickJob];
const config = { ACK_WAIT_MS: '600000' };

/** `direct`: the API alone; `proxied`: the workers, on NATS through the proxy. */
const f = useProxiedApps({
  service: 'NATS_URL',
  direct: { types, handlers: null, config },
  proxied: { types, handlers: [quickHandler], config },
});

const JOBS = 25;

it('runs every job on its first delivery over a link 0.6 s late each way', async () => {
  const { proxy, direct: api } = f;
  proxy.slow(600);
  proxy.slowUpstream(600);
  try {
    const ids: string[] = [];
    for (let i = 0; i < JOBS; i++) {
      const { body } = await gql(api.url, SUBMIT, { input: { type: quickJob.name, payload: {} } });
      expect(body.data.submitJob.userErrors).toEqual([]);
      ids.push(body.data.submitJob.job.id);
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const id of ids) {
      const job = await waitForJob(api.url, id, (j) => j.state === 'SUCCEEDED', 60_000);
      expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 1 });
    }
  } finally {
    proxy.slow(0);
    proxy.slowUpstream(0);
  }
}, 120_000);
