/**
 * `npm start` probes NATS_URL (scripts/services.mjs) only to decide whether to start a private NATS. A list
 * with an entry it cannot read as a URL (`nats://:4222`, a typo with a blank) goes to the app as it is, whose
 * configuration refuses it with one line naming NATS_URL, as the README's Configuration says. (It ended
 * `npm start` with a TypeError stack from `new URL`.)
 */
import { expect, it } from 'vitest';
import { ensureNats } from '../../scripts/services.mjs';

it.each(['nats://127.0.0.1:4222,bad url', 'nats://:4222', 'nats://[::1'])('hands NATS_URL=%s to the app as it is', async (url) => {
  const env: Record<string, string> = { NATS_URL: url };
  await ensureNats(env);
  expect(env).toEqual({ NATS_URL: url });
});
