/**
 * Two owners (alice, bob) and an admin on one server: each owner sees, changes and subscribes to its own
 * jobs only; another owner's job id answers exactly like an id that does not exist; the admin sees all.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bearer, collect, gql, JOB, PROGRESS, SUBMIT, waitForJob, wsClient } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { openJobUpdates, updatePatterns } from '../../src/progress/job-updates.js';

let t: TestApp;
const as: Record<'alice' | 'bob' | 'admin', Record<string, string>> = { alice: {}, bob: {}, admin: {} };

beforeAll(async () => {
  t = await startTestApp();
  as.alice = { authorization: bearer((await t.createKey('alice')).key) };
  as.bob = { authorization: bearer((await t.createKey('bob')).key) };
  as.admin = { authorization: bearer((await t.createKey('root', true)).key) };
});
afterAll(async () => {
  await t?.dispose();
});

type Who = keyof typeof as;
const call = (who: Who, query: string, variables?: Record<string, unknown>) => gql(t.url, query, variables, as[who]);

async function submit(who: Who, input: Record<string, unknown>) {
  const r = await call(who, SUBMIT, { input });
  expect(r.body.errors).toBeUndefined();
  expect(r.body.data.submitJob.userErrors).toEqual([]);
  return r.body.data.submitJob.job as { id: string; state: string };
}

const CANCEL = `mutation($id: ID!) { cancelJob(id: $id) { job { id state } userErrors { code } } }`;
const RETRY = `mutation($id: ID!) { retryJob(id: $id) { job { id state } userErrors { code } } }`;
const DEAD = `{ deadLetters(first: 100) { totalCount edges { node { id } } } }`;
const STATS = `{ queueStats { type queued failed deadLetters } }`;
const codeOf = (r: { body: { errors?: { extensions?: { code?: string } }[] } }) => r.body.errors?.[0]?.extensions?.code;

describe('per-owner isolation', () => {
  let aliceJob: { id: string };
  let bobJob: { id: string };
  let aliceFailed: { id: string };
  let bobFailed: { id: string };

  beforeAll(async () => {
    aliceJob = await submit('alice', { type: 'demo.sleep', payload: { ms: 60_000, steps: 1 } });
    bobJob = await submit('bob', { type: 'demo.sleep', payload: { ms: 60_000, steps: 1 } });
    aliceFailed = await submit('alice', { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 });
    bobFailed = await submit('bob', { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 });
    for (const j of [aliceFailed, bobFailed]) await waitForJob(t.url, j.id, (x) => x.state === 'FAILED');
    // Wait until the dead-letter recorder has filed both.
    const deadline = Date.now() + 30_000;
    while ((await call('admin', DEAD)).body.data.deadLetters.totalCount < 2 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
    }
  });

  it('job(id): an owner sees its own job; another owner gets null, exactly as for an id that does not exist', async () => {
    expect((await call('alice', JOB, { id: aliceJob.id })).body.data.job.id).toBe(aliceJob.id);
    const other = await call('alice', JOB, { id: bobJob.id });
    const missing = await call('alice', JOB, { id: randomUUID() });
    expect(other.body).toEqual({ data: { job: null } });
    expect(missing.body).toEqual(other.body);
    expect((await call('admin', JOB, { id: bobJob.id })).body.data.job.id).toBe(bobJob.id);
  });

  it('guessing ids finds nothing', async () => {
    for (const id of [randomUUID(), randomUUID(), '00000000-0000-0000-0000-000000000000', 'not-a-uuid', bobJob.id.toUpperCase()]) {
      expect((await call('alice', JOB, { id })).body.data.job).toBeNull();
      expect(codeOf(await call('alice', CANCEL, { id }))).toBe('NOT_FOUND');
    }
  });

  it("cancelJob / retryJob on another owner's job: NOT_FOUND, and the job is untouched", async () => {
    const cancel = await call('alice', CANCEL, { id: bobJob.id });
    expect(codeOf(cancel)).toBe('NOT_FOUND');
    expect(cancel.body.errors?.[0]?.message).toBe((await call('alice', CANCEL, { id: randomUUID() })).body.errors?.[0]?.message);
    expect(codeOf(await call('alice', RETRY, { id: bobFailed.id }))).toBe('NOT_FOUND');
    const bobsView = (await call('bob', JOB, { id: bobJob.id })).body.data.job;
    expect(['QUEUED', 'RUNNING']).toContain(bobsView.state);
    expect((await call('bob', JOB, { id: bobFailed.id })).body.data.job.state).toBe('FAILED');

    // The owner can.
    const own = await call('bob', CANCEL, { id: bobJob.id });
    expect(own.body.data.cancelJob.userErrors).toEqual([]);
    const retried = await call('alice', RETRY, { id: aliceFailed.id });
    expect(retried.body.data.retryJob.job.state).toBe('QUEUED');
    await waitForJob(t.url, aliceFailed.id, (x) => x.state === 'FAILED');
  });

  it('jobProgress: subscribing to another owner\'s job answers NOT_FOUND; the owner gets the stream', async () => {
    const bobWs = wsClient(t.wsUrl, as.bob);
    const aliceWs = wsClient(t.wsUrl, as.alice);
    try {
      const other = await collect(bobWs, PROGRESS, { id: aliceFailed.id });
      expect(other.values).toEqual([]);
      expect((other.errors[0] as any).extensions.code).toBe('NOT_FOUND');
      const guessed = await collect(bobWs, PROGRESS, { id: randomUUID(), after: 0 });
      expect((guessed.errors[0] as any).extensions.code).toBe('NOT_FOUND');
      const own = await collect(aliceWs, PROGRESS, { id: aliceFailed.id });
      expect(own.errors).toEqual([]);
      expect(own.values.at(-1).state).toBe('FAILED');
    } finally {
      await Promise.all([bobWs.dispose(), aliceWs.dispose()]);
    }
  });

  it('deadLetters and queueStats count only the caller\'s jobs; the admin sees everyone\'s', async () => {
    const ids = async (who: Who) => (await call(who, DEAD)).body.data.deadLetters.edges.map((e: any) => e.node.id);
    await waitForJob(t.url, aliceFailed.id, (x) => x.state === 'FAILED');
    const deadline = Date.now() + 30_000;
    while (!(await ids('alice')).includes(aliceFailed.id) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    expect(await ids('alice')).toEqual([aliceFailed.id]);
    expect(await ids('bob')).toEqual([bobFailed.id]);
    expect(new Set(await ids('admin'))).toEqual(new Set([aliceFailed.id, bobFailed.id]));

    const flaky = async (who: Who) => (await call(who, STATS)).body.data.queueStats.find((s: any) => s.type === 'demo.flaky');
    expect(await flaky('alice')).toMatchObject({ failed: 1, deadLetters: 1 });
    expect(await flaky('bob')).toMatchObject({ failed: 1, deadLetters: 1 });
    expect((await flaky('admin')).failed).toBe(2);
  });

  it('idempotency keys are per owner: the same key gives each owner its own job', async () => {
    const input = { type: 'demo.noop', payload: {}, idempotencyKey: 'same-key' };
    const a1 = await submit('alice', input);
    const a2 = await submit('alice', input);
    const b1 = await submit('bob', input);
    expect(a2.id).toBe(a1.id);
    expect(b1.id).not.toBe(a1.id);
    expect((await call('bob', JOB, { id: a1.id })).body.data.job).toBeNull();
    const n = (await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs where idempotency_key = 'same-key'`)[0]!.n;
    expect(n).toBe(2);
  });

  it("jobUpdates: another owner's burst, more updates than a subscriber holds unsent (1,000), does not push out the viewer's own", async () => {
    const deps = { sql: t.app.deps.sql, hub: t.app.hub, names: t.app.deps.names, knownTypes: new Set(t.app.deps.types.keys()) };
    // Alice's dashboard (all her jobs, live), opened but not read from yet: as while her socket is slow to take it.
    const stream = await openJobUpdates(deps, {}, 'alice');
    // What the hub hands out meanwhile (to her subscription as well): job id → updates.
    const handed = new Map<string, number>();
    const unlisten = updatePatterns(t.app.deps.names, {}).map((p) => t.app.hub.listen(p, { update: (u) => void handed.set(u.jobId, (handed.get(u.jobId) ?? 0) + 1), resync() {} }));
    const until = async (done: () => boolean) => {
      for (let i = 0; i < 1500 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
    };
    let mine: { id: string };
    let history: { seq: number; state: string }[];
    try {
      mine = await submit('alice', { type: 'demo.noop', payload: {} });
      history = (await waitForJob(t.url, mine.id, (x) => x.state === 'SUCCEEDED')).events;
      await until(() => (handed.get(mine.id) ?? 0) >= history.length);
      const r = await call('bob', 'mutation($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } userErrors { message } } }', {
        inputs: Array.from({ length: 700 }, () => ({ type: 'demo.noop', payload: {} })),
      });
      expect(r.body.data.submitJobs.userErrors).toEqual([]);
      const bobs: string[] = r.body.data.submitJobs.jobs.map((j: { id: string }) => j.id);
      const bobsHanded = () => bobs.reduce((n, id) => n + (handed.get(id) ?? 0), 0);
      await until(() => bobsHanded() >= 2 * bobs.length);
      expect(bobsHanded()).toBeGreaterThan(1000);
    } finally {
      unlisten.forEach((u) => u());
    }
    const seen: { jobId: string; seq: number; state: string }[] = [];
    const idle = () => new Promise<null>((r) => setTimeout(() => r(null), 2000));
    while (seen.length < history.length) {
      const n = await Promise.race([stream.next(), idle()]);
      if (!n || n.done) break;
      seen.push({ jobId: n.value.jobId, seq: n.value.seq, state: n.value.state });
    }
    await stream.return(undefined);
    expect(seen).toEqual(history.map((e) => ({ jobId: mine.id, seq: e.seq, state: e.state })));
  });
});
