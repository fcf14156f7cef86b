/**
 * jobProgress fan-out as a subscriber sees it: subscribers of one job share one execution of each update,
 * yet each gets exactly the fields (and aliases) it selected; a job that reports faster than a subscriber
 * reads may have progress reports coalesced (latest wins), never a state change, a duplicate or its last
 * report.
 */
import { describe, expect, it } from 'vitest';
import { useAppWithWorkerSwitch } from '../support/app.js';
import { collect, gql, SUBMIT, wsClient } from '../support/graphql.js';

const app = useAppWithWorkerSwitch();

/** Submits with the workers stopped: the job stays QUEUED until `app.workers.start()`. */
async function submit(payload: { ms: number; steps: number }): Promise<string> {
  await app.workers.stop();
  const r = await gql(app.t.url, SUBMIT, { input: { type: 'demo.sleep', payload } });
  return r.body.data.submitJob.job.id;
}

/** Runs `queries` on one job until it completes, starting the workers once every one has its snapshot. */
async function watchTogether(id: string, queries: string[]): Promise<Record<string, unknown>[][]> {
  const client = wsClient(app.t.wsUrl);
  let attached = 0;
  let started: Promise<void> | null = null;
  try {
    const runs = queries.map(async (query) => {
      let first = true;
      const r = await collect<Record<string, unknown>>(client, query, { id }, () => {
        if (!first) return;
        first = false;
        if (++attached === queries.length) started = app.workers.start();
      });
      expect(r.errors).toEqual([]);
      return r.values;
    });
    const results = await Promise.all(runs);
    await started;
    return results;
  } finally {
    await client.dispose();
  }
}

describe('jobProgress fan-out', () => {
  it('gives subscribers of one job with different selection sets each the fields they selected', async () => {
    const id = await submit({ ms: 300, steps: 3 });
    const [a, b, c] = await watchTogether(id, [
      'subscription A($id: ID!) { jobProgress(id: $id) { seq state progress } }',
      'subscription B($id: ID!) { jobProgress(id: $id) { jobId seq state message attempt } }',
      'subscription C($id: ID!) { p: jobProgress(id: $id) { s: seq done: progress } }',
    ]);
    for (const v of a!) expect(Object.keys(v).sort()).toEqual(['progress', 'seq', 'state']);
    for (const v of b!) expect(Object.keys(v).sort()).toEqual(['attempt', 'jobId', 'message', 'seq', 'state']);
    for (const v of c!) expect(Object.keys(v).sort()).toEqual(['done', 's']);
    expect(b!.every((v) => v.jobId === id)).toBe(true);
    expect(a!.at(-1)).toMatchObject({ state: 'SUCCEEDED', progress: 100 });
    expect(b!.at(-1)).toMatchObject({ state: 'SUCCEEDED', message: 'step 3/3', attempt: 1 });
    expect(c!.at(-1)).toMatchObject({ done: 100 });
    // The same updates, as far as each one selected them.
    const lastSeq = a!.at(-1)!.seq;
    expect(b!.at(-1)!.seq).toBe(lastSeq);
    expect(c!.at(-1)!.s).toBe(lastSeq);
  });

  it('never skips a state change, a seq in order or the last report when a job reports in a burst', async () => {
    const id = await submit({ ms: 0, steps: 2000 });
    const query = 'subscription P($id: ID!) { jobProgress(id: $id) { seq state progress attempt } }';
    const watches = await watchTogether(id, [query, query, query]);
    for (const values of watches) {
      const seqs = values.map((v) => v.seq as number);
      expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
      const states = values.map((v) => v.state).filter((s, i, all) => s !== all[i - 1]);
      expect(states).toEqual(['QUEUED', 'RUNNING', 'SUCCEEDED']);
      const reports = values.filter((v) => v.state === 'RUNNING');
      expect(reports.at(-1)).toMatchObject({ progress: 100, attempt: 1 });
      // The claim (RUNNING at progress 0) is a state change: it is never coalesced into a report.
      expect(reports[0]).toMatchObject({ progress: 0 });
    }
  });
});
