/**
 * The dead-letter sweep runs every second here (ACK_WAIT_MS 1000). A sweep slowed down by the database (here
 * a lock the test holds on `dead_letter_removals`, which every sweep reads) is not joined by the next ones:
 * one sweep statement waits, not one more per second. Before, the sweep ran on a fixed clock, so the waiting
 * sweeps piled up, one pool connection each, until the API's pool was full and its requests hung. stop()
 * during a stuck sweep answers within its bound instead of waiting for the database.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null, config: { ACK_WAIT_MS: '1000', RETENTION_INTERVAL_MS: '86400000' } });
});
afterAll(async () => {
  await t?.dispose();
});

/** Statements of this database waiting for the test's lock on dead_letter_removals (the sweep's). */
const waitingSweeps = async () =>
  (
    await t.env.sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where datname = current_database() and wait_event_type = 'Lock' and query like '%dead_letter_removals%'`
  )[0]!.n;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const within = <T>(p: Promise<T>, ms: number) => Promise.race([p, sleep(ms).then(() => 'no answer' as const)]);

/** Holds an exclusive lock on dead_letter_removals until `release()`. */
async function lockRemovals() {
  const conn = await t.env.sql.reserve();
  await conn`begin`;
  await conn`lock table dead_letter_removals in access exclusive mode`;
  return {
    conn,
    async release() {
      await conn`commit`;
      conn.release();
    },
  };
}

it('a sweep stuck on the database is not joined by the next ones, and the API keeps answering', async () => {
  const lock = await lockRemovals();
  try {
    let most = 0;
    // Twelve sweep intervals: more than the API's pool of 10 connections.
    for (let i = 0; i < 24; i++) {
      await sleep(500);
      most = Math.max(most, await waitingSweeps());
    }
    expect(most).toBe(1);
    const answer = await within(gql(t.url, `{ job(id: "00000000-0000-0000-0000-000000000000") { id } }`), 5000);
    expect(answer).toMatchObject({ status: 200, body: { data: { job: null } } });
    // A stale copy noted meanwhile: once the lock goes, the sweeps go on and remove it.
    await lock.conn`insert into dead_letter_removals (seq) values (987654)`;
  } finally {
    await lock.release();
  }
  await eventually(async () => (await t.env.sql`select seq from dead_letter_removals`).length === 0, 'stale copy removed by a later sweep');
}, 60_000);

it('stop() during a stuck sweep answers within its bound', async () => {
  const lock = await lockRemovals();
  try {
    await eventually(async () => (await waitingSweeps()) > 0, 'a sweep waiting for the lock');
    expect(await within(t.app.deadLetters.stop(), 5000)).toBeUndefined(); // answers, not waits for the lock
  } finally {
    await lock.release();
  }
}, 60_000);
