/**
 * Once per test run: a migrated template database; each test file clones it (fast) into its own database.
 * The run's id isolates its databases and NATS names from any other run on the machine. And the browser pages
 * built when missing or out of date, once, before the files that load them run side by side (two builds at once
 * would empty each other's output).
 */
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { migrateDatabase } from '../../src/db/migrate.js';
import { ensurePagesBuilt } from '../support/pages.js';

export const ADMIN_URL = process.env.TEST_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
/** The shared NATS server of the run (`npm test` may point it at a private one, scripts/test.mjs). */
export const NATS_URL = process.env.TEST_NATS_URL || 'nats://127.0.0.1:4222';

export default async function setup({ provide }: { provide: (key: 'templateDb' | 'runId', value: string) => void }) {
  await ensurePagesBuilt();
  const runId = randomBytes(3).toString('hex');
  const templateDb = `lr_tpl_${runId}`;
  const admin = postgres(ADMIN_URL, { max: 1, onnotice: () => {} });
  await admin.unsafe(`create database ${templateDb}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${templateDb}`;
  await migrateDatabase(url.toString());
  provide('templateDb', templateDb);
  provide('runId', runId);
  return async () => {
    await admin.unsafe(`drop database if exists ${templateDb} with (force)`).catch(() => {});
    await admin.end();
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDb: string;
    runId: string;
  }
}
