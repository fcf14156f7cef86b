/** Reading JetStream state in tests: how many messages a stream stored, and holds now, per subject. */
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Nats } from '../../src/messaging/connect.js';
import type { Names } from '../../src/messaging/names.js';

export interface StreamProbe {
  jsm: JetStreamManager;
  nc: NatsConnection;
  /** Messages ever stored (last sequence) and held now (on `subject`, which may be a wildcard). */
  state(stream: string, subject?: string): Promise<{ lastSeq: number; messages: number }>;
  close(): Promise<void>;
}

export async function probeStreams(natsUrl: string): Promise<StreamProbe> {
  const nc = await connect({ servers: natsUrl });
  const jsm = await jetstreamManager(nc);
  return {
    jsm,
    nc,
    async state(stream, subject) {
      const info = await jsm.streams.info(stream, subject ? { subjects_filter: subject } : {});
      return {
        lastSeq: info.state.last_seq,
        messages: subject ? Object.values(info.state.subjects ?? {}).reduce((a, b) => a + b, 0) : info.state.messages,
      };
    },
    close: () => nc.close(),
  };
}

/** Waits until `check()` is true (polling), or throws with `what`. */
export async function eventually(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for: ${what}`);
}

/**
 * The stream sequence of a message of job `id` in the jobs stream (acked and termed ones are gone: a work queue),
 * or null when it holds none. Reads message by message: for the few messages of a test.
 */
export async function messageSeqOf(deps: { nats: Nats; names: Names }, id: string): Promise<number | null> {
  const info = await deps.nats.jsm.streams.info(deps.names.jobsStream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await deps.nats.jsm.streams.getMessage(deps.names.jobsStream, { seq }).catch(() => null);
    if (m && m.json<{ id: string }>().id === id) return seq;
  }
  return null;
}

/** Whether the jobs stream still holds a message of job `id`. */
export const inStream = async (deps: { nats: Nats; names: Names }, id: string): Promise<boolean> => (await messageSeqOf(deps, id)) !== null;
