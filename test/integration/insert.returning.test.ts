/**
 * `insertJobs` reads back only what PostgreSQL decides (payload as stored, created_at, the outbox entry);
 * the rest of the job it returns is built from the input and the columns' defaults. It must be exactly the
 * row a later read returns, and the outbox entry exactly the stored one.
 */
import { expect, it } from 'vitest';
import { getEvents, getJobs, insertJobs, type NewJob } from '../../src/db/jobs.js';
import { ARRAYS_FROM } from '../../src/db/recordset.js';
import { newJob, useTestDb } from '../support/app.js';

const t = useTestDb();

const job = (over: Partial<NewJob> = {}): NewJob =>
  newJob({
    owner: 'owner-1',
    // jsonb reorders keys and keeps one of duplicated ones: the returned payload is the stored one.
    payload: { zeta: 1, a: [1, 2.5, 'x'], nested: { b: null, aa: true } },
    maxAttempts: 4,
    timeoutMs: 5000,
    traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    subject: 'test.jobs.demo.noop',
    ...over,
  });

// A batch of ARRAYS_FROM or more goes to PostgreSQL as an array per column (db/recordset.ts), a smaller one as JSON.
it.each([
  ['a small batch', 0],
  ['a big batch', ARRAYS_FROM],
])('returns each inserted job of %s exactly as it is stored, and its outbox entry as stored', async (_, more) => {
  // A scheduled one among them: its runAt on the job, and on its outbox entry as notBefore; one with a startBy.
  const input = [
    job(),
    job({ idempotencyKey: `k-1-${more}`, traceparent: null, maxAttempts: 1 }),
    job({ payload: {}, runAt: new Date(Date.now() + 60_000), startBy: new Date(Date.now() + 120_000) }),
    ...Array.from({ length: more }, (_, i) => job({ idempotencyKey: i % 2 ? `k-more-${i}` : null, payload: { i, text: 'a "quoted" \\ text' } })),
  ];
  const r = await insertJobs(t.db.sql, input);
  expect(r.existing).toEqual([]);
  expect(r.inserted.map((x) => x.job.id)).toEqual(expect.arrayContaining(input.map((j) => j.id)));

  const stored = new Map((await getJobs(t.db.sql, input.map((j) => j.id))).map((j) => [j.id, j]));
  for (const { job: returned } of r.inserted) {
    expect(returned).toStrictEqual(stored.get(returned.id));
    expect(Object.keys(returned.payload as object)).toEqual(Object.keys(stored.get(returned.id)!.payload as object));
  }

  const outbox = await t.env.sql<{ id: string; jobId: string; subject: string; msgId: string; body: unknown; traceparent: string | null; notBefore: Date | null }[]>`
    select id, job_id as "jobId", subject, msg_id as "msgId", body, traceparent, not_before as "notBefore" from outbox
    where job_id in ${t.env.sql(input.map((j) => j.id))} order by id`;
  expect(outbox.filter((o) => o.notBefore !== null)).toHaveLength(1);
  const [withStartBy] = await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs where start_by = ${input[2]!.startBy!}`;
  expect(withStartBy!.n).toBe(1);
  expect(r.inserted.map((x) => x.outbox).sort((a, b) => a.id - b.id)).toStrictEqual(outbox.map((o) => ({ ...o, id: Number(o.id) })));
});

it('returns the existing job for an idempotency key already used, and inserts nothing for it', async () => {
  const first = await insertJobs(t.db.sql, [job({ idempotencyKey: 'again' })]);
  const second = await insertJobs(t.db.sql, [job({ idempotencyKey: 'again' })]);
  expect(second.inserted).toEqual([]);
  // The look-up by key reads the key too; a job row otherwise carries none (JOB_COLUMNS).
  expect([...second.existing]).toStrictEqual([{ ...first.inserted[0]!.job, idempotencyKey: 'again' }]);
});

it("starts each job's history with QUEUED at seq 1, derived from the job row (nothing stored for it)", async () => {
  const inserted = (await insertJobs(t.db.sql, [job()])).inserted[0]!.job;
  expect([...(await getEvents(t.db.sql, inserted.id))]).toStrictEqual([
    { jobId: inserted.id, seq: 1, kind: 'state', state: 'QUEUED', progress: 0, message: null, attempt: 0, result: null, error: null, at: inserted.createdAt },
  ]);
  expect(await getEvents(t.db.sql, inserted.id, 1)).toEqual([]);
  const [stored] = await t.env.sql<{ n: number }[]>`select count(*)::int as n from job_events where job_id = ${inserted.id}`;
  expect(stored!.n).toBe(0);
});
