/**
 * The relay's bookkeeping (marking entries published, purging them) commits without waiting for the WAL
 * flush, for its own transaction only: the pooled connection it ran on goes on committing durably.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createDb, type Db } from '../../src/db/client.js';
import { insertJobs, markPublished, purgePublished } from '../../src/db/jobs.js';
import { createTestEnv, type TestEnv } from '../support/app.js';

let env: TestEnv;
let db: Db;
beforeAll(async () => {
  env = await createTestEnv();
  db = createDb(env.databaseUrl, 1); // one connection: every statement below runs on it
});
afterAll(async () => {
  await db?.close();
  await env?.dispose();
});

const setting = async () => (await db.sql<{ s: string }[]>`select current_setting('synchronous_commit') as s`)[0]!.s;

it('marks entries published with their sequences and leaves the connection committing durably', async () => {
  const job = () => ({ id: randomUUID(), owner: 'o', type: 'demo.noop', payload: {}, maxAttempts: 1, timeoutMs: 1000, idempotencyKey: null, traceparent: null, subject: 's' });
  const { inserted } = await insertJobs(db.sql, [job(), job()]);
  expect(await setting()).toBe('on');

  await markPublished(db.sql, inserted.map((r, i) => ({ id: r.outbox.id, seq: 100 + i })));
  expect(await setting()).toBe('on');
  const rows = await db.sql<{ seq: number; published: boolean }[]>`
    select stream_seq::int as seq, published_at is not null as published from outbox order by id`;
  expect(rows).toEqual([{ seq: 100, published: true }, { seq: 101, published: true }]);

  await db.sql`update jobs set msg_seq = 1`; // claimed: the purge may take their entries
  await purgePublished(db.sql, 0);
  expect(await setting()).toBe('on');
  expect((await db.sql`select id from outbox`).length).toBe(0);
});
