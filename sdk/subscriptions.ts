/**
 * The SDK's live updates (`watchJob`, `jobUpdates`) over one graphql-ws socket (`sdk/connection.ts`: the socket
 * and its keep-alive pings), reconnecting with backoff after a lost connection or a SERVICE_UNAVAILABLE answer
 * (`sdk/reconnection.ts`), and resuming where the last update left off (`after` per job, here; `lastSeenAt` for
 * many jobs, `sdk/job-updates.ts`) so nothing is repeated or skipped. `createClient` (`sdk/client.ts`) builds
 * them; the request methods do not use the socket.
 */
import { connection } from './connection.js';
import { JobProgressDocument, type JobUpdateFieldsFragment, type JobUpdatesFilter } from './generated/graphql.js';
import { jobUpdates, type JobUpdatesOptions } from './job-updates.js';
import { resubscribing } from './reconnection.js';

/** One update of a job, as `watchJob` and `jobUpdates` yield it. */
export type JobUpdate = JobUpdateFieldsFragment;

export interface WatchOptions {
  /** Resume after this seq (from an earlier update); without it the job's current state comes first. */
  after?: number;
  /** Stops the watch (the iterator ends). */
  signal?: AbortSignal;
}

/** What the subscriptions need of the client's options, defaults applied (`ClientOptions` documents them). */
export interface SubscriptionSettings {
  wsUrl: string;
  /** `Bearer …`, sent as graphql-ws `connectionParams.authorization`. */
  authorization: string | undefined;
  reconnectAttempts: number;
  reconnectDelayMs: number;
  keepAliveMs: number;
  /** How long the WebSocket's opening handshake and then the server's acknowledgement may each take. */
  connectTimeoutMs: number;
  /** This machine's clock (a test skews it). @default Date.now */
  now?: () => number;
}

export interface Subscriptions {
  watchJob(id: string, options?: WatchOptions): AsyncGenerator<JobUpdate>;
  jobUpdates(filter?: JobUpdatesFilter, options?: JobUpdatesOptions): AsyncGenerator<JobUpdate>;
  /**
   * Closes the WebSocket: open iterators end with a LongrunError `CLOSED` (not as if their job had finished),
   * those waiting to reconnect too; the next watch opens a new one, as a new client's first would (a server
   * not reached then fails it at once with NETWORK, not retried). A connection whose server does not answer
   * the closing handshake within 1 s (gone silent) is cut: the iterators end by then.
   */
  close(): Promise<void>;
}

/** The client's subscriptions. Nothing connects until the first watch. */
export function subscriptions(s: SubscriptionSettings): Subscriptions {
  const conn = connection(s);

  /** One job's updates; a resume asks for those after the last seq yielded, and drops any not past it. */
  async function* watchJob(id: string, w: WatchOptions = {}): AsyncGenerator<JobUpdate> {
    let lastSeq = w.after;
    const open = () =>
      conn.subscribe<{ jobProgress: JobUpdate }>(JobProgressDocument.toString(), { id, after: lastSeq ?? null }, 'jobProgress', w.signal);
    for await (const u of resubscribing(conn, s, open, w.signal)) {
      if (lastSeq !== undefined && u.seq <= lastSeq) continue;
      lastSeq = u.seq;
      yield u;
    }
  }

  return {
    watchJob,
    jobUpdates: (filter, options) => jobUpdates(conn, s, filter, options),
    close: () => conn.close(),
  };
}
