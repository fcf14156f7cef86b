/**
 * The notifications stream made again (nats-server restarted on an empty store and the stream set up again, or
 * an operator deleting it): the messages of the deliveries waiting to be sent went with the old one. The
 * reconciler checks the deliveries untouched since the stream was made at once, not `RECONCILE_AFTER_MS`
 * later (five minutes by default, an hour here), and queues a new message for each whose message is gone; a
 * delivery whose message went into the new stream keeps it. Each notification is then sent once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/receivers.js';
import { startWaitingNotifications, type WaitingNotifications } from '../support/waiting-notifications.js';

let w: WaitingNotifications;
beforeAll(async () => {
  w = await startWaitingNotifications(3_600_000);
});
afterAll(async () => {
  await w?.dispose();
});

it('queues a new message at once for a delivery whose message went with the old stream, and sends each notification once', async () => {
  const { nats, names } = w.t.app.deps;
  const before = await w.submitNotifying('/before');
  await eventually(() => w.messageOf(before.deliveryId), 10_000, 'the first message published');

  const { config } = await nats.jsm.streams.info(names.notificationsStream);
  expect(await nats.jsm.streams.delete(names.notificationsStream)).toBe(true);
  await nats.jsm.streams.add(config);
  const after = await w.submitNotifying('/after');
  const afterMsg = await eventually(() => w.messageOf(after.deliveryId), 10_000, 'the second message published into the new stream');

  await eventually(async () => (await w.messageOf(before.deliveryId))?.requeues === 1, 20_000, 'a new message for the delivery from before');
  expect(await w.messageOf(after.deliveryId)).toEqual(afterMsg);
  expect(afterMsg.requeues).toBe(0);
  expect((await nats.jsm.streams.info(names.notificationsStream)).state.messages).toBe(2);

  await w.sendAll([before.jobId, after.jobId]);
  expect(w.receiver.requests.map((r) => r.path).sort()).toEqual(['/after', '/before']);
});
