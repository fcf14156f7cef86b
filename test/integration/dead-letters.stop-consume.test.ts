/**
 * A dead-letter recorder stopped while advisories are on their way to it: every advisory it was sent is
 * handed back (nak'ed, redelivered once its pull has ended) or handled, none left unacked until the advisory consumer's
 * 30 s AckWait. Another recorder (the app's) goes on, so the advisories are all handled soon; one stranded with
 * the stopping recorder would stay pending the whole AckWait.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { startDeadLetterRecorder } from '../../src/messaging/dead-letter-recorder.js';
import { startTestApp, type TestApp } from '../support/app.js';

const ROUNDS = 8;
const ADVISORIES = 200;

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

/** Advisories of messages termed and gone (each handled with one stream read): `count` of them. */
function publishAdvisories(count: number, from: number): void {
  const { nats, names } = t.app.deps;
  for (let i = 0; i < count; i++) {
    const advisory = { type: 'io.nats.jetstream.advisory.v1.terminated', stream: names.jobsStream, consumer: 'gone', stream_seq: from + i, deliveries: 1 };
    nats.nc.publish(`$JS.EVENT.ADVISORY.CONSUMER.MSG_TERMINATED.${names.jobsStream}.gone`, JSON.stringify(advisory));
  }
}

it('hands back every advisory on its way to a stopping recorder: the other recorder handles them all at once', async () => {
  const { sql, nats, names, log } = t.app.deps;
  for (let round = 0; round < ROUNDS; round++) {
    const recorder = await startDeadLetterRecorder({ sql, nats, names, log }, { ackWaitMs: 5000, sweepIntervalMs: 60_000 });
    await new Promise((r) => setTimeout(r, 200)); // idle: its pull request waits on the server
    publishAdvisories(ADVISORIES, 1_000_000 + round * ADVISORIES);
    await nats.nc.flush();
    // Stop while the advisories are being delivered (a little later each round).
    await new Promise((r) => setTimeout(r, round * 3));
    await recorder.stop();
  }
  // Far within the 30 s AckWait: nothing is left waiting for it.
  const left = async () => {
    const c = await nats.jsm.consumers.info(names.advisoryStream, names.advisoryConsumer);
    return { pending: c.num_pending, unacked: c.num_ack_pending };
  };
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && Object.values(await left()).some((n) => n > 0)) await new Promise((r) => setTimeout(r, 100));
  expect(await left()).toEqual({ pending: 0, unacked: 0 });
}, 60_000);
