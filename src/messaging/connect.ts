/**
 * The NATS connection: reconnects forever (a restarted nats-server is picked up), JetStream handles on top.
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';

export interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /** Flushes pending publishes and closes. */
  close(): Promise<void>;
}

export interface NatsOptions {
  servers: string[];
  name: string;
  /** How long the first connect may take. @default 5000 */
  timeoutMs?: number;
}

export async function connectNats(opts: NatsOptions): Promise<Nats> {
  const nc = await connect({
    servers: opts.servers,
    name: opts.name,
    timeout: opts.timeoutMs ?? 5000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    pingInterval: 10_000,
  });
  const js = jetstream(nc, { timeout: 5000 });
  const jsm = await jetstreamManager(nc, { timeout: 5000 });
  return {
    nc,
    js,
    jsm,
    close: async () => {
      if (nc.isClosed()) return;
      await nc.drain().catch(() => nc.close());
    },
  };
}
