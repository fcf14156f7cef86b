/**
 * For a file whose tests stop and start NATS: a private nats-server, this file's test env on it, and the
 * app (with workers unless told otherwise), made before the file's tests and removed after them.
 */
import { startPrivateNats, type PrivateNats } from '../setup/services.js';
import { useFixture } from './fixture.js';
import { createTestEnv, startTestApp, type TestApp, type TestAppOptions, type TestEnv } from './app.js';

export function useAppOnPrivateNats(o: Omit<TestAppOptions, 'env'> = {}): { readonly nats: PrivateNats; readonly env: TestEnv; readonly t: TestApp } {
  return useFixture(async (later) => {
    const nats = await startPrivateNats();
    later(() => nats.dispose());
    const env = await createTestEnv({ natsUrl: nats.url });
    later(() => env.dispose());
    const t = await startTestApp({ ...o, env });
    later(() => t.dispose());
    return { nats, env, t };
  });
}
