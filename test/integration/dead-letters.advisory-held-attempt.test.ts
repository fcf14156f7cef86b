/**
 * A worker cut off from NATS, but not from PostgreSQL, while it runs a job: it renews the job's lease, but its
 * in-progress acks do not arrive, so JetStream redelivers the message to the other workers, which refuse it
 * (nak until the lease ends) once per lease. At max-deliver JetStream gives up on it and raises the
 * MAX_DELIVERIES advisory. The recorder used to fail the job then ("deliveries exhausted"), copying it to the
 * dead letters while it ran, and the handler's success was refused as superseded. It now leaves the job to
 * the worker whose lease is live, and handles the advisory again later: by then the job has succeeded, and
 * its message is removed. A job whose handler asks for a retry then (its nak ignored: the message is out of
 * deliveries) gets a fresh message and its next attempt, rather than being failed as "deliveries exhausted".
 *
 * Max-deliver is 3 and AckWait 1 s: the advisory comes about 3 s after the cut, which lasts 5 s more. The last
 * case's worker has an AckWait (so lease) of 8 s, the API's 1 s.
 */
import { expect, it } from 'vitest';
import { z } from 'zod';
import { nanos } from '@nats-io/nats-core';
import { useProxiedApps, workerSwitch } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineHandler } from '../../workers/handler.js';

const heldJob = defineJobType({
  name: 'test.held',
  description: 'runs until let go; with failFirst, its first attempt then asks for a retry',
  payload: z.object({ failFirst: z.boolean() }),
  maxAttempts: 2,
  maxDeliver: 3,
  backoff: { baseMs: 200, jitter: 0 },
});
/** Attempts whose handler started, as `<job id>:<attempt>`. */
const ran: string[] = [];
let letGo = false;
const heldHandler = defineHandler(heldJob, async (p, ctx) => {
  ran.push(`${ctx.jobId}:${ctx.attempt}`);
  if (ctx.attempt > 1) return 'done';
  while (!letGo) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    await new Promise((r) => setTimeout(r, 50));
  }
  if (p.failFirst) throw new Error('asked to retry');
  return 'done';
});

const types = [...BUILTIN_JOB_TYPES, heldJob];
/** `direct`: the API (and, once the job runs, a second worker); `proxied`: the worker that runs the job, on NATS through the proxy. */
const apps = (workerAckWaitMs: number) =>
  useProxiedApps({
    service: 'NATS_URL',
    direct: { types, handlers: null, config: { ACK_WAIT_MS: '1000' } },
    proxied: { types, handlers: [heldHandler], config: { ACK_WAIT_MS: String(workerAckWaitMs) } },
  });
type Apps = ReturnType<typeof apps>;
const f = apps(1000);
/** The worker that runs the job holds it on a lease (its AckWait) 8 times the API's. */
const longLease = apps(8000);

/**
 * Runs a job on the proxied worker and cuts that worker off from NATS until JetStream has given up on the
 * message and the recorder has handled the advisory, twice; then lets the handler end. Answers the job's end.
 */
async function runThroughCut(failFirst: boolean, advisoryMaxAgeMs?: number) {
  const { env, proxy, direct: api } = f;
  const { nats, names } = api.app.deps;
  const before = await advisories(f);
  const id = await submitRunning(f, failFirst);

  const second = workerSwitch(api, [heldHandler]);
  await second.start();
  try {
    const reopen = proxy.hold();
    try {
      await eventually(async () => ((await advisories(f)) > before ? true : undefined), 20_000, 'JetStream gave up on the message');
      if (advisoryMaxAgeMs) await setAdvisoryMaxAge(advisoryMaxAgeMs);
      // Handled by now, and again (about once per lease) while the cut lasts.
      for (const ms of advisoryMaxAgeMs ? [2000, 3000, 3000] : [2000, 3000]) {
        await new Promise((r) => setTimeout(r, ms));
        const [during] = await env.sql`select state, dead_lettered_at from jobs where id = ${id}`;
        expect(during).toMatchObject({ state: 'RUNNING', dead_lettered_at: null });
      }
    } finally {
      reopen();
    }
    letGo = true;
    const job = await waitForJob(api.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED' || j.state === 'CANCELLED', 30_000);
    const dl = (await gql(api.url, `{ deadLetters(first: 10) { totalCount } }`)).body.data.deadLetters;
    expect(dl.totalCount).toBe(0);
    // The message JetStream gave up on does not stay in the work queue: the advisory, handled again, removes it.
    await eventually(async () => ((await nats.jsm.streams.info(names.jobsStream)).state.messages === 0 ? true : undefined), 20_000, 'the message is gone');
    return { id, job };
  } finally {
    await second.stop();
    if (advisoryMaxAgeMs) await setAdvisoryMaxAge(7 * 86_400_000);
  }
}

/** How many advisories the advisory stream holds. */
async function advisories(apps: Apps): Promise<number> {
  const { nats, names } = apps.direct.app.deps;
  return (await nats.jsm.streams.info(names.advisoryStream)).state.messages;
}

/** Submits a held job and waits for the proxied worker to run it; answers its id. */
async function submitRunning(apps: Apps, failFirst: boolean): Promise<string> {
  letGo = false;
  ran.length = 0;
  const submitted = await gql(apps.direct.url, SUBMIT, { input: { type: 'test.held', payload: { failFirst } } });
  expect(submitted.body.errors).toBeUndefined();
  const id = submitted.body.data.submitJob.job.id as string;
  await eventually(async () => (ran.includes(`${id}:1`) ? true : undefined), 20_000, 'the proxied worker runs the job');
  return id;
}

/** Sets how long the advisory stream keeps a message (its duplicate window may not be longer). */
async function setAdvisoryMaxAge(ms: number) {
  const { nats, names } = f.direct.app.deps;
  const { config } = await nats.jsm.streams.info(names.advisoryStream);
  await nats.jsm.streams.update(names.advisoryStream, { ...config, max_age: nanos(ms), duplicate_window: nanos(Math.min(ms, 120_000)) });
}

it('max-deliver reached while a worker cut off from NATS runs the job: the job is left to it, and succeeds', async () => {
  const { id, job } = await runThroughCut(false);
  expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 1, error: null });
  expect(ran).toEqual([`${id}:1`]); // the second worker refused every copy
}, 90_000);

it('a job whose handler asks for a retry once JetStream gave up on its message gets its next attempt', async () => {
  const { id, job } = await runThroughCut(true);
  expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 2, error: null });
  expect(ran).toEqual([`${id}:1`, `${id}:2`]);
}, 90_000);

it('an advisory left waiting longer than its stream keeps messages is kept: the retry then still gets its next attempt', async () => {
  // The advisory stream keeps messages 7 days; a job's timeout may be longer. Here it keeps them 2 s, and the
  // worker holds the job 8 s past the advisory: the deferred advisory, dropped by the stream, used to leave the
  // retried job with no message to run it (RETRYING for good).
  const { id, job } = await runThroughCut(true, 2000);
  expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 2, error: null });
  expect(ran).toEqual([`${id}:1`, `${id}:2`]);
}, 90_000);

/**
 * nats-server raises the advisory when the last delivery (refused by the second worker: nak'ed until the
 * lease ends) would come again, so a retry written in between is older than the advisory. It used to be
 * failed as "deliveries exhausted", with an attempt left. Runs a job whose handler asks for a retry once the
 * second worker refused the last delivery; answers the job's end.
 */
async function retryAfterLastRefusal(apps: Apps, waitMs: number) {
  const { env, proxy, direct: api } = apps;
  const { nats, names } = api.app.deps;
  const deliveries = async () => (await nats.jsm.consumers.info(names.jobsStream, names.workerConsumer('test.held'))).delivered.consumer_seq;
  const before = await advisories(apps);
  const delivered = await deliveries();
  const id = await submitRunning(apps, true);
  const second = workerSwitch(api, [heldHandler]);
  await second.start();
  try {
    const reopen = proxy.hold();
    try {
      await eventually(async () => ((await deliveries()) >= delivered + 3 ? true : undefined), waitMs, 'the second worker refused the last delivery');
      letGo = true; // the proxied worker, cut off from NATS only, writes its retry
      await eventually(async () => ((await env.sql`select state from jobs where id = ${id}`)[0]!.state === 'RETRYING' ? true : undefined), 10_000, 'the retry is written');
      expect(await advisories(apps)).toBe(before); // before the advisory
      await eventually(async () => ((await advisories(apps)) > before ? true : undefined), waitMs, 'JetStream gave up on the message');
      await new Promise((r) => setTimeout(r, 1000)); // the recorder handles it meanwhile
    } finally {
      reopen();
    }
    const job = await waitForJob(api.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED' || j.state === 'CANCELLED', 30_000);
    const dl = (await gql(api.url, `{ deadLetters(first: 10) { totalCount } }`)).body.data.deadLetters;
    return { id, job, deadLetters: dl.totalCount as number };
  } finally {
    await second.stop();
  }
}

it('a job whose handler asks for a retry after the last refused delivery, before JetStream raises the advisory, gets its next attempt', async () => {
  const { id, job, deadLetters } = await retryAfterLastRefusal(f, 20_000);
  expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 2, error: null });
  expect(ran).toEqual([`${id}:1`, `${id}:2`]);
  expect(deadLetters).toBe(0);
}, 90_000);

it('so does one whose worker holds jobs on a longer lease (its AckWait) than the API\'s AckWait', async () => {
  // The last refusal waits out the worker's 8 s lease, so the advisory comes up to 8 s after the retry: the
  // recorder reckoned with its own AckWait (1 s), and failed the job as "deliveries exhausted".
  const { id, job, deadLetters } = await retryAfterLastRefusal(longLease, 60_000);
  expect(job).toMatchObject({ state: 'SUCCEEDED', attempts: 2, error: null });
  expect(ran).toEqual([`${id}:1`, `${id}:2`]);
  expect(deadLetters).toBe(0);
}, 150_000);
