/**
 * The relay's bookkeeping (marking entries published, purging them) commits without waiting for the WAL
 * flush, for its own transaction only: the pooled connection it ran on goes on committing durably.
 */
import { expect, it } from 'vitest';
import { insertJobs } from '../../src/db/jobs.js';
import { markPublished, purgePublished } from '../../src/db/outbox.js';
import { newJob, useTestDb } from '../support/app.js';

const t = useTestDb(1); // one connection: every statement below runs on it

const setting = async () => (await t.db.sql<{ s: string }[]>`select current_setting('synchronous_commit') as s`)[0]!.s;

it('marks entries published with their sequences and leaves the connection committing durably', async () => {
  const { inserted } = await insertJobs(t.db.sql, [newJob(), newJob()]);
  expect(await setting()).toBe('on');

  await markPublished(t.db.sql, inserted.map((r, i) => ({ id: r.outbox.id, seq: 100 + i })));
  expect(await setting()).toBe('on');
  const rows = await t.db.sql<{ seq: number; published: boolean }[]>`
    select stream_seq::int as seq, published_at is not null as published from outbox order by id`;
  expect(rows).toEqual([{ seq: 100, published: true }, { seq: 101, published: true }]);

  await t.db.sql`update jobs set msg_seq = 1`; // claimed: the purge may take their entries
  await purgePublished(t.db.sql, 0);
  expect(await setting()).toBe('on');
  expect((await t.db.sql`select id from outbox`).length).toBe(0);
});
