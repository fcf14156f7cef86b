/**
 * For a file whose tests stop and start PostgreSQL: a private PostgreSQL, this file's test env on it, and the
 * processes the tests spawn (SIGKILLed after them), made before the file's tests and removed after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { startPrivatePostgres, type PrivatePostgres } from '../setup/services.js';
import { createTestEnv, type TestEnv } from './app.js';
import type { LongrunProcess } from './processes.js';

export function useEnvOnPrivatePostgres(): { readonly pg: PrivatePostgres; readonly env: TestEnv; readonly procs: LongrunProcess[] } {
  let pg: PrivatePostgres | undefined;
  let env: TestEnv | undefined;
  const procs: LongrunProcess[] = [];
  beforeAll(async () => {
    pg = await startPrivatePostgres();
    env = await createTestEnv({ adminUrl: pg.url() });
  });
  afterAll(async () => {
    for (const p of procs) await p.kill('SIGKILL');
    await env?.dispose().catch(() => {});
    await pg?.dispose();
  });
  return {
    get pg() {
      return pg!;
    },
    get env() {
      return env!;
    },
    procs,
  };
}
