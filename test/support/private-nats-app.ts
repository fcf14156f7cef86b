/**
 * For a file whose tests stop and start NATS: a private nats-server, this file's test env on it, and the
 * app (with workers unless told otherwise), made before the file's tests and removed after them.
 */
import { afterAll, beforeAll } from 'vitest';
import { startPrivateNats, type PrivateNats } from '../setup/services.js';
import { createTestEnv, startTestApp, type TestApp, type TestAppOptions, type TestEnv } from './app.js';

export function useAppOnPrivateNats(o: Omit<TestAppOptions, 'env'> = {}): { readonly nats: PrivateNats; readonly env: TestEnv; readonly t: TestApp } {
  let nats: PrivateNats | undefined;
  let env: TestEnv | undefined;
  let t: TestApp | undefined;
  beforeAll(async () => {
    nats = await startPrivateNats();
    env = await createTestEnv({ natsUrl: nats.url });
    t = await startTestApp({ ...o, env });
  });
  afterAll(async () => {
    await t?.dispose();
    await env?.dispose();
    await nats?.dispose();
  });
  return {
    get nats() {
      return nats!;
    },
    get env() {
      return env!;
    },
    get t() {
      return t!;
    },
  };
}
