/**
 * Concurrent submits are inserted together (`createJobInserter`: one statement, one commit); a submit whose
 * idempotency key is taken needs a second statement, the read of the job holding it. When that read fails
 * after the insert has committed, only the calls it would have answered fail: a submit without a key in the
 * same group was written, and is answered with its job. Before, every call of the group failed (the API
 * answered each SERVICE_UNAVAILABLE), and a client retrying the keyless one made a second job.
 *
 * The inserter reaches PostgreSQL through a proxy that delays what PostgreSQL sends by 1.5 s: the test sees
 * the read arrive at PostgreSQL while its answer is still on the way, and cuts the connection then.
 */
import { expect, it } from 'vitest';
import { createDb } from '../../src/db/client.js';
import { createJobInserter } from '../../src/db/jobs.js';
import { isDatabaseUnavailable } from '../../src/errors.js';
import { newJob, useTestDb } from '../support/app.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
import { eventually } from '../support/receivers.js';
import { useFixture } from '../support/fixture.js';

const t = useTestDb();
const f = useFixture(async (later) => {
  const through = await startTcpProxyFor(t.env.databaseUrl);
  later(() => through.proxy.close());
  const db = createDb(through.url, 4);
  later(() => db.close());
  return { proxy: through.proxy as TcpProxy, insert: createJobInserter(db.sql) };
});

const KEY_READ = '%idempotency_key as "idempotencyKey" from jobs where (owner, idempotency_key) in%';

it('a keyless submit grouped with a keyed one whose key read failed is answered with its job, written once', async () => {
  const { sql } = t.db;
  const { proxy, insert } = f;
  const taken = (await insert([newJob({ idempotencyKey: 'taken' })])).inserted[0]!.job;

  proxy.slow(1500);
  // The first call is written alone; the two made while it runs are inserted together after it.
  const first = insert([newJob({ payload: { n: 0 } })]);
  const keyless = insert([newJob({ payload: { n: 1 } })]);
  const keyed = insert([newJob({ payload: { n: 2 }, idempotencyKey: 'taken' })]).then(
    (r) => ({ r }),
    (e: unknown) => ({ e }),
  );
  // Both inserted by one statement (the keyless job committed), then the taken key's job read: cut before its answer.
  await eventually(
    async () => ((await sql`select 1 from pg_stat_activity where datname = current_database() and query like ${KEY_READ}`).length ? true : undefined),
    15_000,
    'the read of the taken key',
  );
  proxy.cut();
  proxy.slow(0);

  expect((await first).inserted).toHaveLength(1);
  const a = await keyless;
  expect(a.inserted.map((x) => x.job.payload)).toEqual([{ n: 1 }]);
  expect(a.inserted[0]!.outbox.jobId).toBe(a.inserted[0]!.job.id);
  // The keyed call was not answered: the API answers it SERVICE_UNAVAILABLE, to be tried again (safe with its key).
  const b = await keyed;
  expect('e' in b && isDatabaseUnavailable(b.e)).toBe(true);
  expect(await sql`select id from jobs where idempotency_key = 'taken'`).toEqual([{ id: taken.id }]);

  // The keyless job is there once, with its outbox entry (the relay publishes it).
  const id = a.inserted[0]!.job.id;
  expect(await sql`select id from jobs where payload = '{"n": 1}'`).toEqual([{ id }]);
  expect(await sql`select job_id from outbox where job_id = ${id}`).toEqual([{ job_id: id }]);
});
