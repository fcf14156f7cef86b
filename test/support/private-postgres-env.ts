/**
 * For a file whose tests stop and start PostgreSQL: a private PostgreSQL, this file's test env on it, and the
 * processes the tests spawn (SIGKILLed after them), made before the file's tests and removed after them.
 */
import { startPrivatePostgres, type PrivatePostgres } from '../setup/services.js';
import { useFixture } from './fixture.js';
import { createTestEnv, type TestEnv } from './app.js';
import type { LongrunProcess } from './processes.js';

export function useEnvOnPrivatePostgres(): { readonly pg: PrivatePostgres; readonly env: TestEnv; readonly procs: LongrunProcess[] } {
  return useFixture(async (later) => {
    const pg = await startPrivatePostgres();
    later(() => pg.dispose());
    const env = await createTestEnv({ adminUrl: pg.url() });
    later(() => env.dispose().catch(() => {})); // its server may be stopped
    const procs: LongrunProcess[] = [];
    later(async () => {
      for (const p of procs) await p.kill('SIGKILL');
    });
    return { pg, env, procs };
  });
}
