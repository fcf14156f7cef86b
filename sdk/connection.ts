/**
 * The SDK's one graphql-ws connection, which every watch shares: its WebSocket (opened by the first
 * subscription), the keep-alive pings, the server's clock (from the connection_ack), one subscription attempt
 * over it, and `close()`. graphql-ws does not reconnect by itself here: `sdk/reconnection.ts` opens a watch's
 * subscription again, where its last update left off.
 */
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import WebSocket from 'ws';
import { LongrunError, type GraphQLErrorBody } from './errors.js';
import type { JobUpdate, SubscriptionSettings } from './subscriptions.js';

/** The SDK's WebSocket, which knows which side began its closing handshake. */
interface QuietWebSocket extends WebSocket {
  /**
   * Whether this side began the closing handshake: graphql-ws closing a socket that no subscription needs
   * any more (1000), on `dispose()` (1000), or failing it (4499, 4504, …); not the server, not a proxy.
   */
  readonly closedHere: boolean;
}

/**
 * ws with an 'error' listener of its own: graphql-ws' `terminate()` (which `close()` uses on a connection
 * still being made) removes its handlers, then closes the socket, whose aborted handshake emits an 'error'
 * that nothing would hear: an uncaught exception. And a handshake with no answer in `handshakeTimeoutMs`
 * fails (a server that accepts TCP connections and never answers the upgrade would hold it for ever).
 */
function quietWebSocket(handshakeTimeoutMs: number): new (address: string | URL, protocols?: string | string[]) => QuietWebSocket {
  return class extends WebSocket implements QuietWebSocket {
    closedHere = false;
    constructor(address: string | URL, protocols?: string | string[]) {
      super(address, protocols, { handshakeTimeout: handshakeTimeoutMs });
      this.on('error', () => {});
    }
    override close(code?: number, data?: string | Buffer): void {
      // ws calls close() itself to answer the other side's close frame, once it has read it (its own record of
      // that, not in its types: test/e2e/sdk.normal-closure.test.ts fails if a ws release renames it).
      if (this.readyState === WebSocket.OPEN && !(this as unknown as { _closeFrameReceived?: boolean })._closeFrameReceived) this.closedHere = true;
      super.close(code, data);
    }
  };
}

/**
 * Whether a graphql-ws `closed` event is a normal closure (1000) that the other side began: a proxy or a load
 * balancer ending the connection (longrun itself closes with 1001), not graphql-ws' own.
 */
function closedNormallyByPeer(event: unknown): boolean {
  const e = event as { code?: unknown; target?: unknown } | null;
  return e?.code === 1000 && e.target instanceof WebSocket && !(e.target as QuietWebSocket).closedHere;
}

/**
 * How long `close()` waits for the server to answer its closing handshake before it cuts the connection: a
 * connection gone silent never answers, and ws would hold it (and the process) for 30 s.
 */
const CLOSE_ANSWER_MS = 1000;

/** Ends `socket`: its closing handshake answered within CLOSE_ANSWER_MS, or cut after that. */
function closedOrCut(socket: WebSocket): Promise<void> {
  if (socket.readyState === WebSocket.CLOSED) return Promise.resolve();
  return new Promise((resolve) => {
    const cut = setTimeout(() => socket.terminate(), CLOSE_ANSWER_MS);
    socket.once('close', () => {
      clearTimeout(cut);
      resolve();
    });
  });
}

/** The client's graphql-ws connection, as the watches use it. */
export interface Connection {
  /**
   * One subscription attempt; yields `field` of each result, throws GraphQL errors and close events. Any of
   * `ends` aborting (the caller's signal, say), or the client's `close()` done, ends it at once, also while it
   * waits for a result, and while the socket is still being opened: graphql-ws' own iterator ends only once
   * that connection is made or fails (after connectTimeoutMs, to a server that does not answer), so its next()
   * is not waited for then.
   */
  subscribe<R extends Record<string, JobUpdate>>(
    query: string,
    variables: Record<string, unknown>,
    field: keyof R,
    ...ends: (AbortSignal | undefined)[]
  ): AsyncGenerator<JobUpdate>;
  /**
   * WebSocket connections acknowledged since the client was made or last closed; one or more: a failure since
   * is a lost connection, worth retrying. `close()` starts it again: a watch after it is a new client's first.
   */
  readonly connections: number;
  /** This machine's clock (`SubscriptionSettings.now`). */
  readonly now: () => number;
  /**
   * What to add to `now()` for the server's clock: from the `serverTime` of the last connection_ack (a
   * little less than the true difference, by the ack's way over the network: a resume replays that much more).
   */
  readonly clockOffset: number;
  /** Aborted by `close()` (and replaced then): the iterators open until then end with `CLOSED`. */
  readonly closing: AbortSignal;
  /**
   * Closes the WebSocket; the next subscription opens a new one. A connection whose server does not answer the
   * closing handshake within 1 s (gone silent) is cut.
   */
  close(): Promise<void>;
}

/** The client's connection. Nothing connects until the first subscription. */
export function connection(s: SubscriptionSettings): Connection {
  let ws: WsClient | null = null;
  /** Ends the socket when a ping sent is not answered in keepAliveMs. */
  let pongDue: NodeJS.Timeout | undefined;
  let connections = 0;
  const now = s.now ?? Date.now;
  let clockOffset = 0;
  let closing = new AbortController();
  /** Whether the socket's connection is acknowledged (from connection_ack to its close). */
  let acked = false;
  /** The WebSockets opened and not closed yet: `close()` cuts those that do not answer its closing handshake. */
  const sockets = new Set<WebSocket>();
  /**
   * Aborted once `close()` has closed the sockets (and replaced as it begins): a subscription still waiting
   * then ends, whether or not graphql-ws heard of its socket's close (a close never answered, and cut).
   */
  let disposed = new AbortController();

  const socket = (): WsClient => {
    if (ws) return ws;
    // The events of a client `close()` has let go of (its socket's close, answered or cut while a watch begun
    // since has connected a new one) are not the current connection's: they change nothing here.
    const current = () => ws === c;
    const c: WsClient = createWsClient({
      url: s.wsUrl,
      webSocketImpl: quietWebSocket(s.connectTimeoutMs),
      lazy: true,
      // Reconnecting is done per watch (to resume with `after`), not by re-sending the same subscription.
      retryAttempts: 0,
      connectionParams: s.authorization ? { authorization: s.authorization } : {},
      // A silently dead connection never closes by itself: terminating it fails its subscriptions with a
      // retryable close (4499), and they reconnect.
      keepAlive: s.keepAliveMs,
      // A server that takes the connection and never acknowledges it (frozen) has it closed after
      // connectTimeoutMs (4504; the handshake has the same limit): a watch's first connection then fails at
      // once, a later one is tried again like any loss.
      connectionAckWaitTimeout: s.connectTimeoutMs,
      on: {
        opened: (opened) => {
          const webSocket = opened as WebSocket;
          sockets.add(webSocket);
          webSocket.once('close', () => sockets.delete(webSocket));
        },
        connected: (_socket, payload) => {
          if (!current()) return;
          acked = true;
          connections++;
          const serverTime = typeof payload?.serverTime === 'string' ? Date.parse(payload.serverTime) : NaN;
          if (Number.isFinite(serverTime)) clockOffset = serverTime - now();
        },
        ping: (received) => {
          if (current() && !received) pongDue = setTimeout(() => c.terminate(), s.keepAliveMs).unref();
        },
        pong: (received) => current() && received && clearTimeout(pongDue),
        closed: (event) => {
          if (!current()) return;
          acked = false;
          clearTimeout(pongDue);
          // After a normal closure it did not begin, graphql-ws (whatever its retry options) connects again at
          // once and sends every open subscription again with its first variables: a watchJob from a snapshot
          // (skipping the changes in between), a jobUpdates from its first `since`. Terminated, they fail
          // (4499) as on any other lost connection, and each resumes where its last update left off, after
          // the usual backoff. (The first listener: graphql-ws has not handled the close yet.)
          if (closedNormallyByPeer(event)) c.terminate();
        },
      },
    });
    return (ws = c);
  };

  async function* subscribe<R extends Record<string, JobUpdate>>(
    query: string,
    variables: Record<string, unknown>,
    field: keyof R,
    ...ends: (AbortSignal | undefined)[]
  ): AsyncGenerator<JobUpdate> {
    // The client's close() ends it too, once done: the socket's closing handshake, which would end it, may
    // never be answered (a connection gone silent).
    const signals = [...ends, disposed.signal].filter((e) => e !== undefined);
    if (signals.some((e) => e.aborted)) return;
    const results = socket().iterate<R>({ query, variables });
    /** Ends the wait for the next result (set while one waits). */
    let stop: (() => void) | undefined;
    // Unsubscribes at once, also when no next() waits (the caller busy with the last result, or done with it).
    const onAbort = () => {
      stop?.();
      void results.return?.();
    };
    for (const e of signals) e.addEventListener('abort', onAbort, { once: true });
    try {
      while (!signals.some((e) => e.aborted)) {
        // A next() still waiting when `ends` aborted may fail later (the connection it waited for): handled here.
        const r = await new Promise<Awaited<ReturnType<typeof results.next>> | null>((resolve, reject) => {
          stop = () => resolve(null);
          results.next().then(resolve, reject);
        });
        stop = undefined;
        if (r === null || r.done) return;
        if (r.value.errors?.length) throw LongrunError.from(r.value.errors as GraphQLErrorBody[]);
        if (r.value.data) yield r.value.data[field] as JobUpdate;
      }
    } finally {
      for (const e of signals) e.removeEventListener('abort', onAbort);
      void results.return?.(); // unsubscribes (a no-op once the subscription has ended)
    }
  }

  async function close(): Promise<void> {
    const c = ws;
    const connected = acked;
    ws = null;
    acked = false;
    connections = 0;
    closing.abort();
    closing = new AbortController();
    const done = disposed;
    disposed = new AbortController();
    clearTimeout(pongDue);
    // dispose() waits for a connection still being made (for ever, to a server that accepts and never
    // answers) and rejects with the socket's error event when it fails: such a connection is cut at once.
    if (c && !connected) c.terminate();
    const open = [...sockets];
    await c?.dispose();
    await Promise.all(open.map(closedOrCut));
    done.abort();
  }

  return {
    subscribe,
    get connections() {
      return connections;
    },
    now,
    get clockOffset() {
      return clockOffset;
    },
    get closing() {
      return closing.signal;
    },
    close,
  };
}
