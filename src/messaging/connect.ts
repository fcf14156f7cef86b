/**
 * The NATS connection: reconnects forever (a restarted nats-server is picked up), JetStream handles on top.
 * A server whose message size limit is too small for job updates is refused at connect (MIN_MAX_PAYLOAD).
 * Given `streams`, it sets them up at connect and again whenever they go missing (`repairIfMissing`).
 */
import { connect } from '@nats-io/transport-node';
import type { NatsConnection } from '@nats-io/nats-core';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import type { Logger } from '../log.js';
import { MIN_MAX_PAYLOAD } from './messages.js';
import { createStreamRepair } from './stream-repair.js';

export interface Nats {
  nc: NatsConnection;
  js: JetStreamClient;
  jsm: JetStreamManager;
  /**
   * Hand it what a pull or publish failed with: when that says a stream or consumer is missing, `streams` sets
   * them up again (stream-repair.ts: at most once per REPAIR_GAP_MS). Anything else, or no `streams`: nothing.
   */
  repairIfMissing(failure: unknown): void;
  /** Flushes pending publishes and closes. */
  close(): Promise<void>;
}

/**
 * `work`, its failure handed to `nats.repairIfMissing` on its way to the caller: for a read or publish of a
 * stream that no pull of the process would find missing (a dead-letter copy's; the advisories republished).
 */
export function repairingOnFailure<T>(nats: Pick<Nats, 'repairIfMissing'>, work: Promise<T>): Promise<T> {
  return work.catch((e: unknown) => {
    nats.repairIfMissing(e);
    throw e;
  });
}

export interface NatsOptions {
  servers: string[];
  name: string;
  /** How long the first connect may take. @default 5000 */
  timeoutMs?: number;
  /**
   * Sets up the process's streams and consumers (`ensureStreams`): at connect (a failure closes the connection
   * and fails the connect), and again by `repairIfMissing`, whose repairs are logged to `log`.
   */
  streams?: { ensure(jsm: JetStreamManager): Promise<void>; log: Logger };
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
    // A silent network loss (a NAT or firewall dropping the flow, no reset) is noticed once two pings in a row
    // go unanswered (nats.js' maxPingOut 2): 10-15 s after it, against 20-30 s at 10 s (faults/nats-reset).
    pingInterval: 5_000,
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
  const streams = opts.streams;
  if (streams) {
    await streams.ensure(jsm).catch(async (e: unknown) => {
      await nc.close();
      throw e;
    });
  }
  return {
    nc,
    js,
    jsm,
    repairIfMissing: streams ? createStreamRepair(() => streams.ensure(jsm), streams.log) : () => {},
    close: async () => {
      if (nc.isClosed()) return;
      await nc.drain().catch(() => nc.close());
    },
  };
}
