/**
 * The SDK's live updates (`watchJob`, `jobUpdates`) over one graphql-ws socket: the socket and its keep-alive
 * pings, reconnecting with backoff after a lost connection or a SERVICE_UNAVAILABLE answer, and resuming
 * where the last update left off (`after` per job, `lastSeenAt` for many jobs) so nothing is repeated or skipped.
 * `createClient` (`sdk/client.ts`) builds them; the request methods do not use the socket.
 */
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import WebSocket from 'ws';
import { JobProgressDocument, JobUpdatesDocument, type JobUpdateFieldsFragment, type JobUpdatesFilter } from './generated/graphql.js';
import { LongrunError, errorFromClose, isRetryableClose, type GraphQLErrorBody } from './errors.js';

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

/** One update of a job, as `watchJob` and `jobUpdates` yield it. */
export type JobUpdate = JobUpdateFieldsFragment;

export interface WatchOptions {
  /** Resume after this seq (from an earlier update); without it the job's current state comes first. */
  after?: number;
  /** Stops the watch (the iterator ends). */
  signal?: AbortSignal;
}

export interface JobUpdatesOptions {
  /**
   * Replay the recorded changes at or after this instant first (the `at` of the last update you saw, as
   * yielded: an ISO 8601 string); updates the iterator yielded already are not yielded again.
   * @default the instant `jobUpdates()` was called (not the first read), by the server's clock: nothing from
   * before it comes, and a reread the server cannot make later (see `onGap`) is a gap, never a silent loss
   */
  since?: string;
  /** Stops the iterator. */
  signal?: AbortSignal;
  /**
   * Called when a replay is refused with REPLAY_TOO_LARGE (more changes than the server replays at once): a
   * resume after a lost connection (more changed while the client was away), your own `since` (refused at
   * the start, before anything was yielded), or a reread mid-stream (the server's, after the subscription fell
   * behind the live updates or after the API's NATS connection was back). The iterator then subscribes again
   * from the present (with the usual overlap), and calls and awaits `onGap` before it yields anything more:
   * re-read there the current state of what you show, then apply an update that follows only if its seq is
   * greater than the one you hold for its job. The updates that arrive while it runs are yielded after it
   * returns; an error it throws ends the iterator. A refused `since` is a gap too, not your error: the re-read
   * is what the refusal asks for, and here it misses nothing (the new subscription listens before `onGap`
   * runs); to fail instead, throw from `onGap`. The subscription from the present can be refused in its turn
   * (more than the server replays in its 5 s overlap: a very busy moment): that is another gap, with `onGap`
   * called again, after the wait a reconnect would take (`reconnectDelayMs`, doubling up to 5 s, jittered); after
   * 1 + `reconnectAttempts` gaps in a row with no update yielded between them, the next refusal is thrown.
   * @default none: the iterator throws that LongrunError (code REPLAY_TOO_LARGE)
   * @example
   * const updates = longrun.jobUpdates({ types: ['video.encode'] }, {
   *   onGap: async () => { shown = await readCurrentState(); }, // jobId → { seq, state, … }
   * });
   * for await (const u of updates) {
   *   if (u.seq > (shown.get(u.jobId)?.seq ?? 0)) shown.set(u.jobId, u);
   * }
   */
  onGap?: (gap: ReplayGap) => void | Promise<void>;
}

/** What `onGap` is told about the changes the iterator could not replay. */
export interface ReplayGap {
  /**
   * From when changes may be missing, ISO 8601: your `since` (without one, the instant the iterator started,
   * by the server's clock), or the `lastSeenAt` of a refused resume (the latest `at` it had yielded, or the
   * instant it went on from after a gap); for a refusal mid-stream, the later instant the server's reread
   * started from (the error's `extensions.since`).
   */
  since: string;
}

/**
 * How far before the latest `at` it yielded a `jobUpdates` resume replays (the server's overlap for
 * `lastSeenAt`): a change's `at` is when its statement started, so one that committed (and went out) a little
 * later than another can carry an earlier `at`. The jobs yielded that recently are remembered, to drop what
 * the overlap sends again.
 */
export const RESUME_OVERLAP_MS = 5000;

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

/** The longest wait before a reconnect. */
const MAX_RECONNECT_DELAY_MS = 5000;

/**
 * The wait before the `n`th try again in a row (from 1): a random one ("equal jitter") between half and the
 * whole of `baseMs` doubled n - 1 times, at most 5 s; so after a server restart its clients do not all come
 * back at the same instant, and none comes back at once.
 */
export function reconnectDelay(n: number, baseMs: number, random: () => number = Math.random): number {
  const step = Math.min(MAX_RECONNECT_DELAY_MS, baseMs * 2 ** (n - 1));
  return step / 2 + random() * (step / 2);
}

/** Waits `ms`, or until one of the signals aborts; either way it leaves no listener on them behind. */
const sleep = (ms: number, ...signals: (AbortSignal | undefined)[]) =>
  new Promise<void>((resolve) => {
    const done = () => {
      clearTimeout(timer);
      for (const signal of signals) signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    for (const signal of signals) signal?.addEventListener('abort', done, { once: true });
  });

/** What an iterator open when `close()` was called ends with. */
const closedError = () => new LongrunError('the client was closed while the watch was open', 'CLOSED');

/**
 * A subscription's failure as the server's error: a LongrunError (a result with errors), or graphql-ws' list
 * of errors (an `error` message: a failure mid-stream); else null (a close event).
 */
const serverError = (e: unknown): LongrunError | null =>
  e instanceof LongrunError ? e : Array.isArray(e) ? LongrunError.from(e as GraphQLErrorBody[]) : null;

/** The server's code for a subscription's failure; else undefined. */
const codeOf = (e: unknown): string | undefined => serverError(e)?.code;

/**
 * The gap a `jobUpdates` subscription's failure leaves when it is a REPLAY_TOO_LARGE refusal (else null):
 * from `asked` (the subscription's `since` or `lastSeenAt`), or from where the refused read started
 * (`extensions.since`) when that is later: a refusal mid-stream, of the server's reread after the
 * subscription fell behind or after the API's NATS connection was back. (For `lastSeenAt`, the refusal of the
 * first read names 5 s before it: the overlap, which the client had received, is not part of the gap.)
 */
function gapOf(e: unknown, asked: string): ReplayGap | null {
  const err = serverError(e);
  if (err?.code !== 'REPLAY_TOO_LARGE') return null;
  const from = Date.parse(String(err.errors[0]?.extensions?.since));
  return { since: from > Date.parse(asked) ? new Date(from).toISOString() : asked };
}

/**
 * An instant of this machine's clock, sent as the server's: written out (JSON) when graphql-ws sends the
 * subscription, which it does only once the connection is acknowledged, so the difference the ack's
 * `serverTime` showed is known by then, also on a connection that this subscription opens. The first
 * writing fixes it: what was sent is what `toJSON()` answers after.
 */
class ServerInstant {
  private sent: string | undefined;
  constructor(
    private readonly local: number,
    private readonly offset: () => number,
  ) {}
  toJSON(): string {
    return (this.sent ??= new Date(this.local + this.offset()).toISOString());
  }
}

/** What a `jobUpdates` subscription resumes from: `since` (the caller's, or the iterator's start), or `lastSeenAt`. */
interface ResumeVars {
  since: string | ServerInstant | null;
  lastSeenAt: string | null;
}

/** Whether a subscription's failure is the server saying a backing service is unavailable (try again). */
const isUnavailable = (e: unknown): boolean => codeOf(e) === 'SERVICE_UNAVAILABLE';

/**
 * The gap, then the updates of `live`, a subscription from the gap's handling on, made before the gap is
 * yielded (graphql-ws holds what arrives meanwhile): the application's re-read in `onGap` comes after it
 * starts, so no change falls between the two.
 */
async function* gapThenLive(
  gap: ReplayGap,
  live: AsyncGenerator<JobUpdate>,
  end: AbortController,
): AsyncGenerator<JobUpdate | { gap: ReplayGap }> {
  const first = live.next(); // subscribes now
  first.catch(() => {}); // awaited once the gap is handled
  try {
    yield { gap };
    const r = await first;
    if (r.done) return;
    yield r.value;
    yield* live;
  } finally {
    // Ended while `live` may still wait for its first update (the signal aborted during onGap): its return()
    // would wait for that update, so `end` unsubscribes at once.
    end.abort();
    void live.return(undefined);
  }
}

/** The client's subscriptions. Nothing connects until the first watch. */
export function subscriptions(s: SubscriptionSettings): Subscriptions {
  let ws: WsClient | null = null;
  /** Ends the socket when a ping sent is not answered in keepAliveMs. */
  let pongDue: NodeJS.Timeout | undefined;
  /**
   * WebSocket connections acknowledged since the client was made or last closed; one or more: a failure since
   * is a lost connection, worth retrying. `close()` starts it again: a watch after it is a new client's first.
   */
  let connections = 0;
  const now = s.now ?? Date.now;
  /**
   * What to add to `now()` for the server's clock: from the `serverTime` of the last connection_ack (a
   * little less than the true difference, by the ack's way over the network: a resume replays that much more).
   */
  let clockOffset = 0;
  /** Aborted by `close()` (and replaced): the iterators open until then end with `CLOSED`. */
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
    const c = createWsClient({
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
          acked = true;
          connections++;
          const serverTime = typeof payload?.serverTime === 'string' ? Date.parse(payload.serverTime) : NaN;
          if (Number.isFinite(serverTime)) clockOffset = serverTime - now();
        },
        ping: (received) => {
          if (!received) pongDue = setTimeout(() => c.terminate(), s.keepAliveMs).unref();
        },
        pong: (received) => received && clearTimeout(pongDue),
        closed: (event) => {
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
  const retryDelay = (n: number) => reconnectDelay(n, s.reconnectDelayMs);
  /** A subscription's failure as a LongrunError; one before the server was ever reached says so. */
  const subscriptionError = (e: unknown) => errorFromClose(e, connections > 0 ? null : s.wsUrl);

  /**
   * One subscription attempt; yields `field` of each result, throws GraphQL errors and close events. Any of
   * `ends` aborting (the caller's signal, say), or the client's `close()` done, ends it at once, also while it
   * waits for a result, and while the socket is still being opened: graphql-ws' own iterator ends only once
   * that connection is made or fails (after connectTimeoutMs, to a server that does not answer), so its next()
   * is not waited for then.
   */
  async function* subscribeOnce<R extends Record<string, JobUpdate>>(
    query: string,
    variables: Record<string, unknown>,
    field: keyof R,
    ...ends: (AbortSignal | undefined)[]
  ) {
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

  /**
   * Yields the updates of the subscriptions `open` makes: after a lost connection, or a SERVICE_UNAVAILABLE
   * answer, it opens one again (backoff from `reconnectDelayMs` to 5 s, jittered: `reconnectDelay`; `reconnectAttempts` in a row: an update or a connection made
   * since the last failure starts the count again); it ends when one completes or `signal` aborts, and
   * throws any other failure as a LongrunError.
   */
  async function* resubscribing<T>(open: () => AsyncGenerator<T>, signal: AbortSignal | undefined): AsyncGenerator<T> {
    let failures = 0;
    let connectionsAtFailure = connections;
    const closed = closing.signal;
    for (;;) {
      if (signal?.aborted) return;
      if (closed.aborted) throw closedError();
      try {
        for await (const u of open()) {
          if (signal?.aborted) return; // an update that came before the abort, read after it
          failures = 0;
          yield u;
        }
        // The socket's close() ends its subscriptions as if they had completed: not the job finishing.
        if (closed.aborted && !signal?.aborted) throw closedError();
        return; // completed (the job finished) or aborted
      } catch (e) {
        if (closed.aborted) throw e instanceof LongrunError && e.code === 'CLOSED' ? e : closedError();
        // A server never reached (wrong URL, not running) fails at once, as every other call does. One that
        // answered SERVICE_UNAVAILABLE (its database unreachable) is tried again like a lost connection; the
        // connection it made for that answer does not start the count again.
        const unavailable = isUnavailable(e);
        if (connections > connectionsAtFailure && !unavailable) failures = 0; // it was connected again since the last failure
        connectionsAtFailure = connections;
        const again = unavailable || (!(e instanceof LongrunError) && isRetryableClose(e));
        if (!again || connections === 0 || ++failures > s.reconnectAttempts) throw subscriptionError(e);
        await sleep(retryDelay(failures), signal, closed);
      }
    }
  }

  async function* watchJob(id: string, w: WatchOptions = {}): AsyncGenerator<JobUpdate> {
    let lastSeq = w.after;
    const open = () =>
      subscribeOnce<{ jobProgress: JobUpdate }>(JobProgressDocument.toString(), { id, after: lastSeq ?? null }, 'jobProgress', w.signal);
    for await (const u of resubscribing(open, w.signal)) {
      if (lastSeq !== undefined && u.seq <= lastSeq) continue;
      lastSeq = u.seq;
      yield u;
    }
  }

  /**
   * Resumes with `lastSeenAt: <the latest at yielded>` (the server replays from RESUME_OVERLAP_MS before it
   * and counts only what is at or after it) and drops what it yielded already by the job's last seq (seqs
   * grow per job), remembered for the 10,000 most recently active jobs and for every job yielded within
   * RESUME_OVERLAP_MS of the latest `at`. Without `options.since`, the first subscription has `since`: its
   * start, by the server's clock (the ack's `serverTime`; this machine's may be off; a ServerInstant, written
   * out once the ack is in; early by the ack's way over the network, the only changes its replay can have),
   * so the server refuses, never skips, a reread past its bound. That start counts as the latest `at` too:
   * a reconnect before anything was yielded still replays what happened meanwhile. With `options.onGap`, a
   * subscription refused with REPLAY_TOO_LARGE (at its start or mid-stream) goes on from the present
   * (gapThenLive), and its start counts the same way.
   */
  function jobUpdates(filter: JobUpdatesFilter = {}, opts: JobUpdatesOptions = {}): AsyncGenerator<JobUpdate> {
    // The start is the call's instant, not the first next()'s (a generator's body runs only then): what changes
    // between the two (the jobs the caller submits before reading, say) is replayed.
    return updatesFrom(opts.since === undefined ? now() : null, filter, opts);
  }

  /** `jobUpdates` from `started` (this machine's clock; null with the caller's `since`). */
  async function* updatesFrom(started: number | null, filter: JobUpdatesFilter, opts: JobUpdatesOptions): AsyncGenerator<JobUpdate> {
    let latest: number | null = null;
    let opened = false;
    /** Per job: the last seq yielded and the latest `at` among its updates yielded. */
    const yielded = new Map<string, { seq: number; at: number }>();
    const resume = (): ResumeVars => {
      const first = !opened;
      opened = true;
      // The first from the caller's `since`, or from its start: the server then refuses, never skips, a reread past its bound.
      if (first) return { since: opts.since ?? new ServerInstant(started ?? now(), () => clockOffset), lastSeenAt: null };
      const ats = [latest, started === null ? null : started + clockOffset].filter((at) => at !== null);
      const lastSeenAt = ats.length ? Math.max(...ats) : null;
      if (lastSeenAt === null) return { since: opts.since ?? null, lastSeenAt: null };
      return { since: null, lastSeenAt: new Date(lastSeenAt).toISOString() };
    };
    const subscribe = (vars: ResumeVars, end?: AbortSignal) =>
      subscribeOnce<{ jobUpdates: JobUpdate }>(JobUpdatesDocument.toString(), { filter, ...vars }, 'jobUpdates', opts.signal, end);
    /** Gaps since the last update yielded: the refusal that would make one more than 1 + reconnectAttempts is thrown. */
    let gapsInARow = 0;
    const closed = closing.signal;
    async function* open(): AsyncGenerator<JobUpdate | { gap: ReplayGap }> {
      let vars = resume();
      let updates: AsyncGenerator<JobUpdate | { gap: ReplayGap }> = subscribe(vars);
      for (;;) {
        try {
          return yield* updates;
        } catch (e) {
          const asked = vars.lastSeenAt ?? (vars.since instanceof ServerInstant ? vars.since.toJSON() : vars.since);
          const gap = opts.onGap && asked !== null ? gapOf(e, asked) : null;
          if (!gap || gapsInARow > s.reconnectAttempts) throw e;
          // The subscription from the present refused too (more changes in its 5 s overlap, or since it started,
          // than one replay sends: a very busy moment): tried again as a reconnect is, after a wait.
          if (gapsInARow > 0) await sleep(retryDelay(gapsInARow), opts.signal, closed);
          if (opts.signal?.aborted || closed.aborted) return;
          gapsInARow++;
          // Resumed from now (by the server's clock, with the resume's 5 s overlap): a change the re-read misses
          // (it committed after the re-read, before the server listened) comes in the replay, whatever its `at`.
          started = now();
          vars = resume();
          const end = new AbortController();
          updates = gapThenLive(gap, subscribe(vars, end.signal), end);
        }
      }
    }
    for await (const u of resubscribing(open, opts.signal)) {
      if ('gap' in u) {
        await opts.onGap?.(u.gap);
        continue;
      }
      const before = yielded.get(u.jobId);
      if (u.seq <= (before?.seq ?? 0)) continue;
      const at = Date.parse(u.at);
      yielded.delete(u.jobId); // re-insert: the map keeps the most recently active jobs last
      yielded.set(u.jobId, { seq: u.seq, at: Math.max(at, before?.at ?? at) });
      if (latest === null || at > latest) latest = at;
      for (const [id, y] of yielded) {
        if (yielded.size <= 10_000 || y.at >= latest - RESUME_OVERLAP_MS) break;
        yielded.delete(id);
      }
      gapsInARow = 0;
      yield u;
    }
  }

  return {
    watchJob,
    jobUpdates,
    async close() {
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
    },
  };
}
