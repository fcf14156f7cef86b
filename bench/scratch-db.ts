/**
 * A scratch database for the EXPLAIN scripts: created and migrated on open, dropped by `end()` unless KEEP=1
 * (then the next run reuses its rows).
 */
import postgres from 'postgres';
import { ensureDatabase, migrateDatabase } from '../src/db/migrate.js';

const ADMIN = process.env.ADMIN_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export async function openScratchDb(name: string): Promise<{ sql: postgres.Sql; end(): Promise<void> }> {
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  await ensureDatabase(url.toString());
  await migrateDatabase(url.toString());
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} });
  return {
    sql,
    async end() {
      await sql.end();
      if (process.env.KEEP === '1') return;
      const admin = postgres(ADMIN, { max: 1, onnotice: () => {} });
      await admin.unsafe(`drop database if exists ${name} with (force)`);
      await admin.end();
    },
  };
}
