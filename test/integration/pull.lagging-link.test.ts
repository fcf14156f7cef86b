/**
 * Pull requests (`pullMessages`, every worker's, the notifier's and the dead-letter recorder's) over a slow
 * link to NATS: a loop of pulls, as a worker runs, receives every message published meanwhile, each on its
 * first delivery. What the server sends for a pull after the client has stopped listening for it reaches no
 * one and waits unacked for the AckWait (here ten minutes). Before, the pull was stopped 1.2 s after its request
 * was written: a round trip of 0.4 s lost what the server sent in the pull's last 0.2 s (about one message in
 * seven here); and from about 0.5 s nats.js gave each pull up for missed heartbeats.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { pullMessages } from '../../src/messaging/pull.js';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { startTcpProxyFor, type TcpProxy } from '../support/proxy.js';
import { eventually } from '../support/streams.js';

let env: TestEnv;
let proxy: TcpProxy;
let direct: NatsConnection;
let lagged: NatsConnection;
beforeAll(async () => {
  env = await createTestEnv();
  const through = await startTcpProxyFor(env.natsUrl);
  proxy = through.proxy;
  direct = await connect({ servers: env.natsUrl });
  lagged = await connect({ servers: through.url });
});
afterAll(async () => {
  await lagged?.close();
  await direct?.close();
  await proxy?.close();
  await env?.dispose();
});

it.each([200, 600])('a loop of pulls over a link %i ms late each way receives every message once', async (lag) => {
  const stream = `${env.prefix}pull_lag_${lag}`;
  const jsm = await jetstreamManager(direct);
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, { durable_name: 'c', ack_policy: AckPolicy.Explicit, ack_wait: nanos(600_000) });
  proxy.slow(lag);
  proxy.slowUpstream(lag);
  const received: string[] = [];
  const redelivered: string[] = [];
  let pulling = true;
  const loop = (async () => {
    while (pulling) {
      for await (const m of pullMessages(lagged, stream, 'c', 50).messages) {
        received.push(m.string());
        if (m.info.deliveryCount > 1) redelivered.push(m.string());
        m.ack();
      }
    }
  })();
  try {
    // Published at all moments of the pulls' lives, their last ones included.
    const published: string[] = [];
    for (let i = 0; i < 150; i++) {
      published.push(String(i));
      direct.publish(`${stream}.x`, String(i));
      await new Promise((r) => setTimeout(r, 30));
    }
    // Any lost waits out the AckWait: what came by then is compared.
    await eventually(() => received.length >= published.length, 'every message received', 15_000).catch(() => {});
    expect([...received].sort()).toEqual([...published].sort());
    expect(redelivered).toEqual([]);
  } finally {
    pulling = false;
    await loop;
    proxy.slow(0);
    proxy.slowUpstream(0);
  }
}, 60_000);
