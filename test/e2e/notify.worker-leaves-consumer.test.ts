/**
 * Only processes that run the notifier (API processes) set up its consumer. A worker process started after
 * the API, with no webhook settings of its own, set the consumer's AckWait back to its default's 30 s: with
 * WEBHOOK_TIMEOUT_MS above 10 s, a send still under way had its message delivered again and sent twice.
 */
import { expect, it } from 'vitest';
import { startTestApp } from '../support/app.js';
import { useFixture } from '../support/fixture.js';
import { spawnWorker } from '../support/processes.js';

const f = useFixture(async (later) => {
  const api = await startTestApp({ config: { WEBHOOK_TIMEOUT_MS: '60000' } });
  later(() => api.dispose());
  return { api };
});

it('a worker process started after the API leaves the notifier consumer as the API set it', async () => {
  const { names, nats } = f.api.app.deps;
  const ackWait = async () => (await nats.jsm.consumers.info(names.notificationsStream, names.notifierConsumer)).config.ack_wait! / 1e6;
  expect(await ackWait()).toBe(80_000); // WEBHOOK_TIMEOUT_MS + 20 s

  const worker = await spawnWorker({ ...f.api.env.env, WORKER_CONCURRENCY: '1' });
  try {
    expect(await ackWait()).toBe(80_000);
  } finally {
    await worker.kill('SIGTERM');
  }
}, 150_000);
