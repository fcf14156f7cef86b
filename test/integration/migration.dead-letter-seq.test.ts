/**
 * Migration 0010 widens `jobs.dead_letter_seq` to 64 bits without rewriting the table (a new column, the
 * values copied, the old one dropped): a database migrated before it keeps every recorded copy's sequence.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { drizzle } from 'drizzle-orm/postgres-js';
import { migrate } from 'drizzle-orm/postgres-js/migrator';
import { afterAll, expect, inject, it } from 'vitest';
import { MIGRATIONS_DIR, migrateDatabase } from '../../src/db/migrate.js';
import { ADMIN_URL } from '../setup/global.js';

const name = `lr_mig_${inject('runId')}_dlseq`;
const url = new URL(ADMIN_URL);
url.pathname = `/${name}`;
const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
const dir = mkdtempSync(join(tmpdir(), 'longrun-migrations-'));

afterAll(async () => {
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.end();
  rmSync(dir, { recursive: true, force: true });
});

/** The migrations as they were before `tag` (the journal cut there). */
function migrationsBefore(tag: string): string {
  cpSync(MIGRATIONS_DIR, dir, { recursive: true });
  const journalPath = join(dir, 'meta', '_journal.json');
  const journal = JSON.parse(readFileSync(journalPath, 'utf8')) as { entries: { tag: string }[] };
  journal.entries = journal.entries.slice(0, journal.entries.findIndex((e) => e.tag === tag));
  writeFileSync(journalPath, JSON.stringify(journal));
  return dir;
}

it('keeps the recorded dead-letter sequences and takes ones past 2^31 afterwards', async () => {
  await admin.unsafe(`drop database if exists ${name} with (force)`);
  await admin.unsafe(`create database ${name}`);
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  try {
    await migrate(drizzle(sql), { migrationsFolder: migrationsBefore('0010_dead_letter_seq_bigint') });
    const row = (id: string, seq: number | null) => sql`
      insert into jobs (id, owner, type, payload, max_attempts, timeout_ms, state, finished_at, dead_lettered_at, dead_letter_seq)
      values (${id}, 'o', 't', '{}', 1, 1000, 'FAILED', now(), case when ${seq}::int is null then null else now() end, ${seq})`;
    await row('00000000-0000-4000-8000-000000000001', 2_147_483_647);
    await row('00000000-0000-4000-8000-000000000002', null);

    await migrateDatabase(url.toString());

    const rows = await sql<{ seq: string | null }[]>`select dead_letter_seq::text as seq from jobs order by id`;
    expect(rows.map((r) => r.seq)).toEqual(['2147483647', null]);
    await sql`update jobs set dead_letter_seq = 5000000000 where id = '00000000-0000-4000-8000-000000000002'`;
    const [after] = await sql<{ seq: string }[]>`select dead_letter_seq::text as seq from jobs where id = '00000000-0000-4000-8000-000000000002'`;
    expect(after!.seq).toBe('5000000000');
  } finally {
    await sql.end();
  }
});
