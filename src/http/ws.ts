/**
 * GraphQL over WebSocket (graphql-ws) at `/graphql`, with the same authentication and limits as HTTP.
 *
 * - A socket is always accepted. `connectionParams.authorization` (any letter case) carries the key; a socket
 *   with a missing, bad or later revoked key stays open and every operation on it answers UNAUTHENTICATED
 *   (closing with 4403 would make graphql-ws clients such as GraphiQL retry forever). Up to
 *   `maxRefusedSockets` such sockets (and ones over their key's connection limit) per process: past that, a
 *   socket is closed with 4403 at its connection_init, so clients without a key cannot hold sockets (and file
 *   descriptors) without end. (Who may keep a socket open: ws-connections.ts.)
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
import { unauthenticated } from '../auth/authenticate.js';
import { watchRevocations } from '../auth/revocation.js';
import { ErrorCode, PublicError } from '../errors.js';
import { createContext } from '../graphql/context.js';
import { formatError } from '../graphql/errors.js';
import { documentChecker, withCode } from '../graphql/checked-documents.js';
import { sharedPayloads } from '../graphql/shared-results.js';
import { jobsCharged, type SubmitRateLimiter } from '../graphql/submit-rate.js';
import type { JobDeps } from '../jobs/deps.js';
import type { Logger } from '../log.js';
import type { UpdateHub } from '../progress/hub.js';
import { KeyCounts } from './key-counts.js';
import { connectionAdmission, type Connection } from './ws-connections.js';
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

const asGraphQLError = (e: PublicError) => new GraphQLError(e.message, { originalError: e });
const socketOf = (ctx: Context): WebSocket => (ctx.extra as SocketExtra).socket;

export function startGraphqlWs(o: GraphqlWsOptions): GraphqlWs {
  const { security: sec, log } = o;
  const subscriptions = new KeyCounts();
  const revocations = watchRevocations(sec.auth, sec.ws.recheckMs, log);
  // An update's frames leave once it is fanned out, not only at the end of the event-loop turn (guardSends'
  // setImmediate): measured 2026-12-01, flushing once per turn instead had fan-out p99 at 137-202 against
  // 102-120 ms (three alternating pairs): one NATS read carries many updates.
  const stopFlushing = o.hub.afterDispatch(flushWrites);
  /** Every open connection by its graphql-ws context (from onConnect until onClose). */
  const connected = new Map<Context, Connection>();
  const { check, release } = connectionAdmission(sec, revocations, connected, subscriptions);

  const checked = documentChecker(o.schema, sec.query);

  const wss = new WebSocketServer({ server: o.server, path: '/graphql', maxPayload: sec.ws.maxMessageBytes });
  const stopPings = dropSilentSockets(wss, sec.ws.pingIntervalMs);

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
