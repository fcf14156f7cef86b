/**
 * GraphQL over WebSocket (graphql-ws) at `/graphql`, with the same authentication and limits as HTTP.
 *
 * - A socket is always accepted. `connectionParams.authorization` (any letter case) carries the key; a socket
 *   with a missing, bad or later revoked key stays open and every operation on it answers UNAUTHENTICATED
 *   (closing with 4403 would make graphql-ws clients such as GraphiQL retry forever). Up to
 *   `maxRefusedSockets` such sockets (and ones over their key's connection limit) per process: past that, a
 *   socket is closed with 4403 at its connection_init, so clients without a key cannot hold sockets (and file
 *   descriptors) without end.
 * - graphql-ws' protocol server runs on the `ws` server through ws-transport.ts (its own keep-alive off, a
 *   client's malformed message a 4400 rather than an internal error).
 * - graphql-ws parses and validates by itself; here `onSubscribe` does it instead (src/graphql/
 *   checked-documents.ts: the token limit and the depth/cost/alias rules, valid documents kept by query
 *   text), then checks the per-key subscription count and submit rate.
 * - A revoked key (re-checked every `recheckMs`) ends its subscriptions with an UNAUTHENTICATED error.
 * - A key that could not be checked (PostgreSQL down: SERVICE_UNAVAILABLE), or found its connection slots
 *   taken (TOO_MANY_CONNECTIONS), is checked again by the socket's next operation, so a long-lived client
 *   (GraphiQL) recovers without a new socket.
 * - Subscription results bypass graphql-ws' per-result path: subscribers sending the same operation share
 *   one execution and serialisation of each update (src/graphql/shared-results.ts), written to the socket
 *   as ready-made `next` frames (src/http/ws-push.ts); a socket's frames of one update's fan-out leave in
 *   one write (`guardSends` in ws-socket.ts).
 * - A socket whose unsent data passes `maxBufferedBytes` is closed with 1013 "Try Again Later" (see
 *   `guardSends`); graphql-ws clients retry 1013, and `jobProgress(after:)` resumes without a gap.
 * - A socket that does not answer a ping within `pingIntervalMs` is dropped (`dropSilentSockets`): a client
 *   gone without a close would otherwise hold its key's slots for ever.
 * - The `connection_ack` payload carries `serverTime` (this process's clock, ISO 8601): a client starts
 *   `jobUpdates(since:)`, or resumes it (`lastSeenAt:`), from when it subscribed by the server's clock, not its own.
 */
import { setMaxListeners } from 'node:events';
import type http from 'node:http';
import { createSourceEventStream, GraphQLError, getOperationAST, type ExecutionArgs, type ExecutionResult, type GraphQLSchema } from 'graphql';
import type { Context, SubscribePayload } from 'graphql-ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { authorizationParam, unauthenticated, type Principal } from '../auth/authenticate.js';
import { watchRevocations } from '../auth/revocation.js';
import { ErrorCode, PublicError } from '../errors.js';
import { createContext } from '../graphql/context.js';
import { formatError, unavailableError } from '../graphql/errors.js';
import { documentChecker, withCode } from '../graphql/checked-documents.js';
import { sharedPayloads } from '../graphql/shared-results.js';
import { jobsCharged, type SubmitRateLimiter } from '../graphql/submit-rate.js';
import type { JobDeps } from '../jobs/deps.js';
import type { Logger } from '../log.js';
import type { UpdateHub } from '../progress/hub.js';
import { KeyCounts } from './key-counts.js';
import { pushResults } from './ws-push.js';
import { dropSilentSockets, flushWrites, guardSends, sendFrame } from './ws-socket.js';
import { serveGraphqlWs, type SocketExtra } from './ws-transport.js';
import { headerOf, requestIdOf } from './request-id.js';
import type { SecurityOptions } from './security.js';

export interface GraphqlWsOptions {
  server: http.Server;
  schema: GraphQLSchema;
  deps: JobDeps;
  hub: UpdateHub;
  dev: boolean;
  log: Logger;
  security: SecurityOptions;
  submitRate: SubmitRateLimiter;
}

export interface GraphqlWs {
  wss: WebSocketServer;
  /** Open connections and running operations (for /metrics). */
  stats(): { connections: number; subscriptions: number };
  /** Stops the revocation re-check and closes every socket (1001). */
  dispose(): Promise<void>;
}

/**
 * One connection's state, from graphql-ws' `onConnect` until `onClose`: where its requests come from and
 * what it may do.
 */
interface Connection {
  /** The upgrade request's W3C `traceparent`, continued by `submitJob`. */
  traceparent: string | null;
  /** The job deps of its operations: the logger carries the upgrade request's id. */
  deps: JobDeps;
  /** Who it is; null until its key is checked, and when it has no valid key. */
  principal: Principal | null;
  /** Why operations are refused (no key, revoked key, too many connections, a failed check), if they are. */
  refusal: PublicError | null;
  /**
   * Its next operation checks the key again: the last check failed (rather than refusing the key), or found
   * no free connection slot on it.
   */
  recheck: boolean;
  /** The check running, awaited by every operation that needs it (so the connection is counted once). */
  checking: Promise<boolean> | null;
  /** The key its connection and subscriptions are counted on. */
  countedKey: string | null;
  /** Aborted when the key is revoked: ends the socket's subscriptions. */
  revoked: AbortController;
  /** Ids of its subscriptions counted on `countedKey`. */
  subscriptions: Set<string>;
  unwatch(): void;
}

const asGraphQLError = (e: PublicError) => new GraphQLError(e.message, { originalError: e });
const socketOf = (ctx: Context): WebSocket => (ctx.extra as SocketExtra).socket;

export function startGraphqlWs(o: GraphqlWsOptions): GraphqlWs {
  const { security: sec, log } = o;
  const connections = new KeyCounts();
  const subscriptions = new KeyCounts();
  const revocations = watchRevocations(sec.auth, sec.ws.recheckMs, log);
  // An update's frames leave once it is fanned out, not only at the end of the event-loop turn (guardSends'
  // setImmediate): measured 2026-12-01, flushing once per turn instead had fan-out p99 at 137-202 against
  // 102-120 ms (three alternating pairs): one NATS read carries many updates.
  const stopFlushing = o.hub.afterDispatch(flushWrites);
  /** Every open connection by its graphql-ws context (from onConnect until onClose). */
  const connected = new Map<Context, Connection>();
  /** Open connections let in without a usable key (no key, a bad one, no free connection slot on it). */
  const refused = new Set<Connection>();

  const checked = documentChecker(o.schema, sec.query);

  const wss = new WebSocketServer({ server: o.server, path: '/graphql', maxPayload: sec.ws.maxMessageBytes });
  const stopPings = dropSilentSockets(wss, sec.ws.pingIntervalMs);

  /** Checks the connection's key and counts the connection on it; sets what the connection may do. */
  const admit = async (s: Connection, connectionParams: Context['connectionParams']): Promise<void> => {
    try {
      s.principal = await sec.auth.authenticate(authorizationParam(connectionParams));
    } catch (e) {
      // Classified by formatError as over HTTP (graphql-http.ts): a backing service down is
      // SERVICE_UNAVAILABLE, anything else a bug (INTERNAL_SERVER_ERROR). Each operation answers with it
      // until one finds the check passing.
      const down = unavailableError(e);
      if (down) {
        s.deps.log.warn({ err: e }, 'GraphQL over WebSocket: cannot authenticate, a backing service is unavailable');
        s.refusal = down;
      } else {
        s.deps.log.error({ err: e }, 'GraphQL over WebSocket: authentication failed');
        s.refusal = new PublicError(ErrorCode.INTERNAL_SERVER_ERROR, 'internal error');
      }
      s.recheck = true;
      return;
    }
    s.recheck = false;
    s.refusal = null;
    const key = s.principal?.keyId ?? null;
    if (!s.principal) s.refusal = unauthenticated();
    else if (key !== null && !connections.tryAdd(key, sec.ws.maxConnectionsPerKey)) {
      s.refusal = new PublicError(ErrorCode.TOO_MANY_CONNECTIONS, `this API key has ${sec.ws.maxConnectionsPerKey} WebSocket connections open already`, {
        extensions: { limit: sec.ws.maxConnectionsPerKey },
      });
      s.recheck = true; // a slot may be free by its next operation
    } else if (key !== null) {
      s.countedKey = key;
      s.unwatch = revocations.watch(key, () => {
        s.principal = null;
        s.refusal = unauthenticated('the API key was revoked');
        s.revoked.abort(s.refusal);
      });
    }
    if (!s.refusal) refused.delete(s); // let in on a later check: no longer refused
  };

  /**
   * Checks the key of an open connection: at connection_init, and again on an operation after a failed
   * check. One check at a time: operations arriving meanwhile wait for it. False when the socket closed
   * meanwhile (its slot, if the check took one, is given back at once), or when it is turned away
   * (`mayStay`): a check that failed at connection_init (a backing service down) let it in uncounted, and it
   * counts from the check that finds it refused.
   */
  const check = (ctx: Context, s: Connection): Promise<boolean> =>
    (s.checking ??= admit(s, ctx.connectionParams).then(() => {
      s.checking = null;
      if (connected.get(ctx) !== s) {
        release(s);
        return false;
      }
      return mayStay(s);
    }));

  /**
   * Whether a checked connection may stay open: one without a usable key is counted among the refused (at
   * most maxRefusedSockets), and turned away (false) when they are at their limit. A key that could not be
   * checked is not a refusal, and a revoked key's connections were let in with a usable one.
   */
  const mayStay = (s: Connection): boolean => {
    if (!s.refusal || refused.has(s) || s.refusal.code === ErrorCode.SERVICE_UNAVAILABLE || s.refusal.code === ErrorCode.INTERNAL_SERVER_ERROR) return true;
    if (refused.size >= sec.ws.maxRefusedSockets) return false;
    refused.add(s);
    return true;
  };

  /** Gives back the connection's slot and subscription counts on its key (again: no-op). */
  const release = (s: Connection) => {
    refused.delete(s);
    s.unwatch();
    if (s.countedKey === null) return;
    for (const _ of s.subscriptions) subscriptions.remove(s.countedKey);
    s.subscriptions.clear();
    connections.remove(s.countedKey);
    s.countedKey = null;
  };

  /** An operation's execution arguments, or why it is refused: its key, document, submit rate and subscription count checked. */
  const start = (s: Connection | undefined, id: string, payload: SubscribePayload): ExecutionArgs | GraphQLError[] => {
    if (!s?.principal) return [asGraphQLError(s?.refusal ?? unauthenticated())];
    if (s.refusal) return [asGraphQLError(s.refusal)];
    const document = checked(payload.query);
    if (!('kind' in document)) return document;
    const op = getOperationAST(document, payload.operationName);
    if (!op) {
      const named = payload.operationName;
      const why = named ? `no operation named "${named}" in the document` : 'cannot tell which operation to run: give `operationName`';
      return [withCode(new GraphQLError(why), ErrorCode.BAD_REQUEST)];
    }
    const key = s.principal.keyId;
    const contextValue = createContext(s.deps, o.hub, s.principal.viewer, { keyId: key, traceparent: s.traceparent, submitRate: o.submitRate });
    if (key !== null) {
      try {
        contextValue.submits.take(jobsCharged(o.schema, document, op, payload.variables));
      } catch (e) {
        if (e instanceof PublicError) return [asGraphQLError(e)];
        throw e;
      }
      if (op.operation === 'subscription') {
        if (!subscriptions.tryAdd(key, sec.ws.maxSubscriptionsPerKey)) {
          const max = sec.ws.maxSubscriptionsPerKey;
          return [asGraphQLError(new PublicError(ErrorCode.TOO_MANY_SUBSCRIPTIONS, `this API key has ${max} subscriptions running already`, { extensions: { limit: max } }))];
        }
        s.subscriptions.add(id);
      }
    }
    return {
      schema: o.schema,
      document,
      operationName: payload.operationName ?? null,
      variableValues: payload.variables ?? null,
      contextValue,
    };
  };

  /** Errors formatted as on HTTP; internal ones logged with the connection's logger (its `requestId`). */
  const format = (errors: readonly GraphQLError[], log: Logger) =>
    errors.map((e) => formatError(e.toJSON(), e, { dev: o.dev, schemaHidden: !sec.query.introspection, log }));
  const logOf = (ctx: Context): Logger => connected.get(ctx)?.deps.log ?? o.log;
  /** A result with its errors formatted as on HTTP (one place for pushed payloads and graphql-ws' own). */
  const formatResult = (r: ExecutionResult, log: Logger): ExecutionResult =>
    r.errors ? ({ ...r, errors: format(r.errors, log) } as unknown as ExecutionResult) : r;

  const disposeServer = serveGraphqlWs(
    {
      connectionInitWaitTimeout: sec.ws.connectionInitTimeoutMs,
      // The source stream only: its events become frames in onOperation (pushResults).
      subscribe: (args) => createSourceEventStream(args) as ReturnType<typeof createSourceEventStream> & Promise<never>,
      async onConnect(ctx) {
        const headers = (ctx.extra as SocketExtra).request.headers;
        const requestId = requestIdOf(headers['x-request-id']);
        const s: Connection = {
          traceparent: headerOf(headers.traceparent),
          deps: { ...o.deps, log: o.deps.log.child({ requestId }) },
          principal: null,
          refusal: null,
          recheck: false,
          checking: null,
          countedKey: null,
          revoked: new AbortController(),
          subscriptions: new Set(),
          unwatch: () => {},
        };
        setMaxListeners(0, s.revoked.signal); // one listener per running subscription of the socket
        connected.set(ctx, s);
        // false: graphql-ws closes the socket with 4403 Forbidden (onClose gives everything back).
        return check(ctx, s).then((open) => open && { serverTime: new Date().toISOString() });
      },
      onSubscribe(ctx, id, payload) {
        const s = connected.get(ctx);
        // One operation per id at a time (ws-transport.ts), so the subscriptions are counted by id.
        if (!s?.recheck) return start(s, id, payload);
        return check(ctx, s).then((open) => {
          if (open) return start(s, id, payload);
          // Turned away on this later check (still open): the operation gets its answer, then the socket is
          // closed as at a connection_init (after graphql-ws has sent the answer, queued ahead of the close frame).
          if (connected.get(ctx) === s) setImmediate(() => socketOf(ctx).close(4403, 'Forbidden'));
          return [asGraphQLError(s.refusal ?? unauthenticated())];
        });
      },
      onOperation(ctx, id, _payload, args, result) {
        if (!(Symbol.asyncIterator in result)) return undefined;
        // Gone only if the socket closed while the operation started: graphql-ws then returns (ends) it unread.
        const signal = connected.get(ctx)?.revoked.signal ?? AbortSignal.abort();
        const socket = socketOf(ctx);
        return pushResults(result, {
          id,
          payloadOf: sharedPayloads(args as ExecutionArgs, (r) => formatResult(r, logOf(ctx))),
          send: (frame) => sendFrame(socket, frame),
          signal,
        });
      },
      onComplete(ctx, id) {
        const s = connected.get(ctx);
        if (s?.countedKey != null && s.subscriptions.delete(id)) subscriptions.remove(s.countedKey);
      },
      onClose(ctx) {
        const s = connected.get(ctx);
        connected.delete(ctx);
        // A connection whose key is being checked is released again when the check ends (`check`): release is
        // idempotent, so either order gives its slot back once.
        if (s) release(s);
      },
      onNext: (ctx, _id, _payload, _args, result) => (result.errors ? formatResult(result, logOf(ctx)) : undefined),
      onError: (ctx, _id, _payload, errors) => format(errors, logOf(ctx)),
    },
    wss,
    log,
  );
  wss.on('connection', (socket, request) => guardSends(socket, request.socket, sec.ws.maxBufferedBytes, log));

  return {
    wss,
    stats: () => ({
      connections: connected.size,
      subscriptions: [...connected.keys()].reduce((n, c) => n + Object.keys(c.subscriptions).length, 0),
    }),
    async dispose() {
      revocations.stop();
      stopFlushing();
      stopPings();
      await disposeServer();
    },
  };
}
