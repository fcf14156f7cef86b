/**
 * `retryJob` whose replay commits, and then the statement after it fails: removing the note of the old
 * dead-letter copy (a trigger the test puts on `dead_letter_removals` refuses it, as PostgreSQL dropping the
 * connection right after the commit would). The job is replayed and will run, so that is the answer; before,
 * the caller got an internal error, and retrying again answered that a QUEUED job cannot be retried. The
 * follow-up is left to the background machinery: the replay runs (the relay publishes its message), and the
 * dead-letter sweep deletes the note (after the old copy, had NATS not deleted it) once the statement goes
 * through again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { eventually } from '../support/streams.js';
import { createLogger } from '../../src/log.js';

const logs: { msg?: string; jobIds?: string[] }[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({
    config: { RETENTION_INTERVAL_MS: '86400000' },
    log: createLogger('warn', 'longrun', { write: (line: string) => void logs.push(JSON.parse(line)) }),
  });
});
afterAll(async () => {
  await t?.dispose();
});

const row = async (id: string) =>
  (await t.env.sql<{ state: string; series: number; seq: number | null }[]>`select state, series, dead_letter_seq::int as seq from jobs where id = ${id}`)[0]!;
const copyAt = async (seq: number) => {
  const { nats, names } = t.app.deps;
  const m = await nats.jsm.streams.getMessage(names.deadLetterStream, { seq });
  return m ? `${m.header.get('Longrun-Job-Id')}:${JSON.parse(new TextDecoder().decode(m.data)).series}` : null;
};

it('answers the replayed job when the statement after the commit fails; the replay runs and the sweep tidies up', async () => {
  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true }, maxAttempts: 1 } });
  const id = r.body.data.submitJob.job.id as string;
  await waitForJob(t.url, id, (j) => j.state === 'FAILED');
  let oldSeq = 0;
  await eventually(async () => ((oldSeq = (await row(id)).seq ?? 0), oldSeq > 0), 'dead letter recorded');
  expect(await copyAt(oldSeq)).toBe(`${id}:1`);

  await t.env.sql.unsafe(`
    create function refuse_delete() returns trigger language plpgsql as $$ begin raise exception 'deletes refused by the test'; end $$;
    create trigger refuse_delete before delete on dead_letter_removals for each row execute function refuse_delete();`);
  const retried = await gql(t.url, `mutation($id: ID!) { retryJob(id: $id) { job { id state } userErrors { code } } }`, { id });
  expect(retried.body).toEqual({ data: { retryJob: { job: { id, state: 'QUEUED' }, userErrors: [] } } });
  expect(logs.some((l) => l.jobIds?.includes(id) && l.msg?.startsWith('retryJob: replayed;'))).toBe(true);

  // The replay runs (attempt series 2) and fails for good again: its own copy is recorded.
  let newSeq = 0;
  await eventually(async () => {
    const now = await row(id);
    newSeq = now.seq ?? 0;
    return now.series === 2 && now.state === 'FAILED' && newSeq > 0;
  }, 'series 2 ran and was dead-lettered');
  // The old copy went from the stream before the refused statement; its note stays until a sweep goes through.
  expect(await copyAt(oldSeq)).toBeNull();
  expect(await copyAt(newSeq)).toBe(`${id}:2`);
  expect((await t.env.sql<{ seq: number }[]>`select seq::int from dead_letter_removals`).map((x) => x.seq)).toEqual([oldSeq]);
  await t.env.sql`drop trigger refuse_delete on dead_letter_removals`;
  await eventually(async () => (await t.env.sql`select seq from dead_letter_removals`).length === 0, 'note removed by the sweep');
  expect(await copyAt(newSeq)).toBe(`${id}:2`);
}, 120_000);
