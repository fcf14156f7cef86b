/**
 * The NATS connection: reconnects forever (a restarted nats-server is picked up), JetStream handles on top.
 * A server whose message size limit is too small for job updates is refused at connect (MIN_MAX_PAYLOAD).
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { MIN_MAX_PAYLOAD } from './messages.js';

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

/** `nats://user:pass@host:4222` → `host:4222`: where a server is, for messages (no credentials). */
const hostOf = (server: string) => {
  try {
    return new URL(server.includes('://') ? server : `nats://${server}`).host || server;
  } catch {
    return server;
  }
};

export async function connectNats(opts: NatsOptions): Promise<Nats> {
  const nc = await connect({
    servers: opts.servers,
    name: opts.name,
    timeout: opts.timeoutMs ?? 5000,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
    waitOnFirstConnect: false,
    pingInterval: 10_000,
  }).catch((e: unknown) => {
    // nats.js says "connection refused" or "timeout" alone: name the service and where it was looked for.
    throw new Error(`cannot connect to NATS at ${opts.servers.map(hostOf).join(', ')}: ${(e as Error).message}`, { cause: e });
  });
  const maxPayload = nc.info?.max_payload ?? MIN_MAX_PAYLOAD;
  if (maxPayload < MIN_MAX_PAYLOAD) {
    await nc.close();
    throw new Error(
      `nats-server's max_payload is ${maxPayload} bytes; longrun needs at least ${MIN_MAX_PAYLOAD} (a job update carries its result): raise it in the server's configuration`,
    );
  }
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
