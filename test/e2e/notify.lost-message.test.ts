/**
 * A notification whose message JetStream lost (a power loss on nats-server 2.9, a purged stream) is still
 * sent: the reconciler finds the delivery waiting to be sent from a message the stream no longer has and
 * queues a new one. A delivery whose message is still in the stream (behind a backlog: here no notifier runs
 * yet) keeps its message and its place.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually } from '../support/receivers.js';
import { startWaitingNotifications, type WaitingNotifications } from '../support/waiting-notifications.js';

let w: WaitingNotifications;
beforeAll(async () => {
  w = await startWaitingNotifications(1000);
});
afterAll(async () => {
  await w?.dispose();
});

it('sends a notification whose message the stream lost, once; one still in the stream keeps its message', async () => {
  const kept = await w.submitNotifying('/kept');
  const lost = await w.submitNotifying('/lost');
  const keptMsg = await eventually(() => w.messageOf(kept.deliveryId), 10_000, 'the kept message published');
  const lostMsg = await eventually(() => w.messageOf(lost.deliveryId), 10_000, 'the lost message published');

  const { nats, names } = w.t.app.deps;
  expect(await nats.jsm.streams.deleteMessage(names.notificationsStream, lostMsg.seq)).toBe(true);

  // The reconciler has a new message (its second) queued and published for the lost one, and leaves the kept one alone.
  await eventually(async () => (await w.messageOf(lost.deliveryId))?.requeues === 1, 20_000, 'a new message for the lost delivery');
  expect(await w.messageOf(kept.deliveryId)).toEqual(keptMsg);
  expect(keptMsg.requeues).toBe(0);
  expect(await nats.jsm.streams.getMessage(names.notificationsStream, { seq: keptMsg.seq })).not.toBeNull();

  await w.sendAll([kept.jobId, lost.jobId]);
  expect(w.receiver.requests.map((r) => r.path).sort()).toEqual(['/kept', '/lost']);
});
