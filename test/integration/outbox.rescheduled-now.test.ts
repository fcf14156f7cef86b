/**
 * A scheduled job submitted long before its runAt and rescheduled to now: its entry, due at once, counts in
 * the outbox backlog (`longrun_outbox_oldest_age_seconds`) from the reschedule, not from the submit, and is
 * left to the process that reschedules it for the relay's first 2 s (as a submit's is), not taken by every
 * relay at once.
 */
import { expect, it } from 'vitest';
import type { Sql } from '../../src/db/client.js';
import { insertJobs } from '../../src/db/jobs.js';
import { outboxBacklog, withUnpublished } from '../../src/db/outbox.js';
import { rescheduleWaitingJob } from '../../src/db/reschedule.js';
import { newJob, useTestDb } from '../support/app.js';

const t = useTestDb();
const DAY_MS = 86_400_000;

it('counts from the reschedule in the backlog, and the relay leaves it to the rescheduling process at first', async () => {
  const job = newJob({ runAt: new Date(Date.now() + 30 * DAY_MS) });
  await insertJobs(t.db.sql, [job]);
  // Submitted 100 days ago (runAt may be up to 366 days ahead).
  await t.db.sql`update outbox set created_at = now() - interval '100 days' where job_id = ${job.id}`;
  expect((await outboxBacklog(t.db.sql)).count).toBe(0); // not due: not behind

  const r = await t.db.sql.begin((tx) =>
    rescheduleWaitingJob(tx as unknown as Sql, { id: job.id, owner: null, runAt: null, message: 'rescheduled to now', subjectOf: () => 's' }),
  );
  expect(r && 'entries' in r && r.entries.map((e) => e.notBefore)).toEqual([null]);

  const backlog = await outboxBacklog(t.db.sql);
  expect(backlog.count).toBe(1);
  expect(backlog.oldestAgeMs).toBeLessThan(DAY_MS); // 100 days before
  const taken = await withUnpublished(t.db.sql, { limit: 10, minAgeMs: 2000, anyAgeSubject: 'notifications' }, async (entries) =>
    entries.map((e) => ({ id: e.id, seq: 1 })),
  );
  expect(taken).toBe(0); // publishSoon's, in the rescheduling process
});
