/**
 * A nats-server whose message size limit (`max_payload`) is too small for job updates (a result of up to
 * 256 KiB travels in one) is refused when longrun connects, with an error that says what to change, instead
 * of starting and silently dropping large updates, whose watchers would then wait for ever.
 */
import { afterAll, expect, it } from 'vitest';
import { connectNats } from '../../src/messaging/connect.js';
import { MIN_MAX_PAYLOAD } from '../../src/messaging/messages.js';
import { startPrivateNats, type PrivateNats } from '../setup/services.js';

const servers: PrivateNats[] = [];
afterAll(async () => {
  for (const s of servers) await s.dispose();
});

it('refuses a server below the minimum and accepts one at it', async () => {
  const small = await startPrivateNats({ maxPayload: 100_000 });
  servers.push(small);
  await expect(connectNats({ servers: [small.url], name: 'test' })).rejects.toThrow(
    `nats-server's max_payload is 100000 bytes; longrun needs at least ${MIN_MAX_PAYLOAD}`,
  );

  const enough = await startPrivateNats({ maxPayload: MIN_MAX_PAYLOAD });
  servers.push(enough);
  const nats = await connectNats({ servers: [enough.url], name: 'test' });
  expect(nats.nc.info?.max_payload).toBe(MIN_MAX_PAYLOAD);
  await nats.close();
});
