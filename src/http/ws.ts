/**
 * GraphQL over WebSocket (graphql-ws) at `/graphql`, with the same authentication and limits as HTTP.
 *
 * - A socket is always accepted. `connectionParams.authorization` (any letter case) carries the key; a socket
 *   with a missing, bad or later revoked key stays open and every operation on it answers UNAUTHENTICATED
 *   (closing with 4403 would make graphql-ws clients such as GraphiQL retry forever).
 * - graphql-ws parses and validates by itself; here `onSubscribe` does it instead, with the token limit and
 *   the depth/cost/alias rules of src/graphql/limits.ts, the per-key subscription count and submit rate.
 * - A revoked key (re-checked every `recheckMs`) ends its subscriptions with an UNAUTHENTICATED error.
 * - Subscription results bypass graphql-ws' per-result path: subscribers sending the same operation share
 *   one execution and serialisation of each update (src/graphql/shared-results.ts), written to the socket
 *   as ready-made `next` frames (src/http/ws-push.ts); a socket's frames of one event-loop turn leave in one
 *   write (`batchWrites`).
 * - A socket whose unsent data passes `maxBufferedBytes` is closed with 1013 "Try Again Later" (see
 *   `boundSendBuffer`); graphql-ws clients retry 1013, and `jobProgress(after:)` resumes without a gap.
 */
import { setMaxListeners } from 'node:events';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import { createSourceEventStream, GraphQLError, getOperationAST, parse, specifiedRules, validate, type DocumentNode, type ExecutionArgs, type GraphQLSchema } from 'graphql';
import type { Context } from 'graphql-ws';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer, type WebSocket } from 'ws';
import { authorizationParam, unauthenticated, type Principal } from '../auth/authenticate.js';
import { watchRevocations } from '../auth/revocation.js';
import { ErrorCode, PublicError, ServiceUnavailableError } from '../errors.js';
import { createContext } from '../graphql/context.js';
import { formatError } from '../graphql/errors.js';
import { limitRules, parseOptions } from '../graphql/limits.js';
import { sharedPayloads } from '../graphql/shared-results.js';
import { jobsSubmitted, type SubmitRateLimiter } from '../graphql/submit-rate.js';
import type { JobDeps } from '../jobs/deps.js';
import type { Logger } from '../log.js';
import type { UpdateHub } from '../progress/hub.js';
import { pushResults } from './ws-push.js';
import { headerOf, requestIdOf } from './request-id.js';
import type { SecurityOptions } from './security.js';

/** Close code of a socket whose reader is too slow: 1013 Try Again Later (graphql-ws clients retry it). */
export const SLOW_CONSUMER_CLOSE = { code: 1013, reason: 'send buffer full: the client reads too slowly' } as const;

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

/** What one socket is allowed to do. */
interface Session {
  principal: Principal | null;
  /** Why operations are refused (no key, revoked key, too many connections), if they are. */
  refusal: PublicError | null;
  /** The key its connection and subscriptions are counted on. */
  countedKey: string | null;
  /** Aborted when the key is revoked: ends the socket's subscriptions. */
  revoked: AbortController;
  subscriptions: Set<string>;
  unwatch(): void;
}

/** Open connections or subscriptions per key. */
class KeyCounts {
  private counts = new Map<string, number>();
  tryAdd(key: string, max: number): boolean {
    const n = this.counts.get(key) ?? 0;
    if (n >= max) return false;
    this.counts.set(key, n + 1);
    return true;
  }
  remove(key: string): void {
    const n = (this.counts.get(key) ?? 1) - 1;
    if (n <= 0) this.counts.delete(key);
    else this.counts.set(key, n);
  }
}

const asGraphQLError = (e: PublicError) => new GraphQLError(e.message, { originalError: e });
const withCode = (e: GraphQLError, code: string) =>
  new GraphQLError(e.message, { nodes: e.nodes ?? null, source: e.source ?? null, positions: e.positions ?? null, extensions: { code } });

/**
 * Caps what a socket may hold unsent: a send that would pass `max` closes the socket with
 * SLOW_CONSUMER_CLOSE and is dropped. (graphql-ws awaits each send, so one subscription has at most one
 * message in flight; this bounds the sum over all of a socket's subscriptions.)
 */
export function boundSendBuffer(socket: WebSocket, max: number, log: Logger): void {
  const send = socket.send.bind(socket) as (data: string, cb?: (err?: Error) => void) => void;
  (socket as unknown as { send: typeof send }).send = (data, cb) => {
    if (socket.readyState === socket.OPEN && socket.bufferedAmount + Buffer.byteLength(data) > max) {
      log.warn({ bufferedAmount: socket.bufferedAmount }, 'closing a WebSocket whose client reads too slowly');
      socket.close(SLOW_CONSUMER_CLOSE.code, SLOW_CONSUMER_CLOSE.reason);
    }
    if (socket.readyState !== socket.OPEN) {
      cb?.(); // dropped: the socket is closing
      return;
    }
    send(data, cb);
  };
}

/**
 * Sends of one turn of the event loop leave together: the first corks the TCP socket and the uncork waits
 * for the turn's other work (setImmediate). With many subscriptions per socket, one write (one system call)
 * carries all the frames of a fan-out instead of one write per frame.
 */
export function batchWrites(socket: WebSocket, raw: Duplex): void {
  const send = socket.send.bind(socket) as (data: string, cb?: (err?: Error) => void) => void;
  let corked = false;
  const uncork = () => {
    corked = false;
    raw.uncork();
  };
  (socket as unknown as { send: typeof send }).send = (data, cb) => {
    if (!corked) {
      corked = true;
      raw.cork();
      setImmediate(uncork);
    }
    send(data, cb);
  };
}

/** Writes a text frame; resolves once written, or at once when the socket is closing (as graphql-ws does). */
function sendFrame(socket: WebSocket, frame: string): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.readyState !== socket.OPEN) return resolve();
    socket.send(frame, (err) => (err ? reject(err) : resolve()));
  });
}

export function startGraphqlWs(o: GraphqlWsOptions): GraphqlWs {
  const { security: sec, log } = o;
  const rules = [...specifiedRules, ...limitRules(sec.query)];
  const connections = new KeyCounts();
  const subscriptions = new KeyCounts();
  const revocations = watchRevocations(sec.auth, sec.ws.recheckMs, log);
  const sessions = new WeakMap<object, Session>();
  /** Every open connection's graphql-ws context, and its request id / traceparent. */
  const live = new Map<Context, { requestId: string; traceparent: string | null }>();
  /** Sockets closed while their key was still being checked. */
  const gone = new WeakSet<object>();

  const wss = new WebSocketServer({ server: o.server, path: '/graphql', maxPayload: sec.ws.maxMessageBytes });

  const open = async (ctx: Context): Promise<Session> => {
    const s: Session = { principal: null, refusal: null, countedKey: null, revoked: new AbortController(), subscriptions: new Set(), unwatch: () => {} };
    setMaxListeners(0, s.revoked.signal); // one listener per running subscription of the socket
    try {
      s.principal = await sec.auth.authenticate(authorizationParam(ctx.connectionParams));
    } catch (e) {
      log.warn({ err: e }, 'could not authenticate a WebSocket connection');
      s.refusal = new ServiceUnavailableError('authentication');
      return s;
    }
    const key = s.principal?.keyId ?? null;
    if (!s.principal) s.refusal = unauthenticated();
    else if (key !== null && !connections.tryAdd(key, sec.ws.maxConnectionsPerKey)) {
      s.refusal = new PublicError(ErrorCode.TOO_MANY_CONNECTIONS, `this API key has ${sec.ws.maxConnectionsPerKey} WebSocket connections open already`, {
        extensions: { limit: sec.ws.maxConnectionsPerKey },
      });
    } else if (key !== null) {
      s.countedKey = key;
      s.unwatch = revocations.watch(key, () => {
        s.principal = null;
        s.refusal = unauthenticated('the API key was revoked');
        s.revoked.abort(s.refusal);
      });
    }
    return s;
  };

  const close = (s: Session) => {
    s.unwatch();
    if (s.countedKey === null) return;
    for (const _ of s.subscriptions) subscriptions.remove(s.countedKey);
    s.subscriptions.clear();
    connections.remove(s.countedKey);
    s.countedKey = null;
  };

  const format = (errors: readonly GraphQLError[]) => errors.map((e) => formatError(e.toJSON(), e, o.dev));

  const ws = useServer(
    {
      connectionInitWaitTimeout: sec.ws.connectionInitTimeoutMs,
      // The source stream only: its events become frames in onOperation (pushResults).
      subscribe: (args) => createSourceEventStream(args) as ReturnType<typeof createSourceEventStream> & Promise<never>,
      async onConnect(ctx) {
        const headers = (ctx.extra as { request: http.IncomingMessage }).request.headers;
        live.set(ctx, { requestId: requestIdOf(headers['x-request-id']), traceparent: headerOf(headers.traceparent) });
        const s = await open(ctx);
        if (gone.has(ctx)) {
          close(s); // closed meanwhile: give back the connection slot at once
          return false;
        }
        sessions.set(ctx, s);
        return true;
      },
      onSubscribe(ctx, id, payload) {
        const s = sessions.get(ctx);
        if (!s?.principal) return [asGraphQLError(s?.refusal ?? unauthenticated())];
        if (s.refusal) return [asGraphQLError(s.refusal)];
        let document: DocumentNode;
        try {
          document = parse(payload.query, parseOptions(sec.query));
        } catch (e) {
          return [withCode(e as GraphQLError, 'GRAPHQL_PARSE_FAILED')];
        }
        const invalid = validate(o.schema, document, rules);
        if (invalid.length) return invalid.map((e) => (e.originalError ? e : withCode(e, 'GRAPHQL_VALIDATION_FAILED')));
        const op = getOperationAST(document, payload.operationName);
        if (!op) return [withCode(new GraphQLError('cannot tell which operation to run: give `operationName`'), ErrorCode.BAD_REQUEST)];
        const key = s.principal.keyId;
        if (key !== null) {
          try {
            o.submitRate.take(key, jobsSubmitted(document, op, payload.variables));
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
          contextValue: createContext(
            { ...o.deps, log: o.deps.log.child({ requestId: live.get(ctx)?.requestId }) },
            o.hub,
            s.principal.viewer,
            { keyId: key, traceparent: live.get(ctx)?.traceparent ?? null },
          ),
        };
      },
      onOperation(ctx, id, _payload, args, result) {
        if (!(Symbol.asyncIterator in result)) return undefined;
        const socket = (ctx.extra as { socket: WebSocket }).socket;
        return pushResults(result, {
          id,
          payloadOf: sharedPayloads(args as ExecutionArgs, format),
          send: (frame) => sendFrame(socket, frame),
          signal: sessions.get(ctx)?.revoked.signal ?? new AbortController().signal,
        });
      },
      onComplete(ctx, id) {
        const s = sessions.get(ctx);
        if (s?.countedKey != null && s.subscriptions.delete(id)) subscriptions.remove(s.countedKey);
      },
      onClose(ctx) {
        gone.add(ctx);
        live.delete(ctx);
        const s = sessions.get(ctx);
        if (s) close(s);
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: format(result.errors) } : undefined),
      onError: (_ctx, _id, _payload, errors) => format(errors),
    },
    wss,
  );
  // After graphql-ws' own handler: ws has already closed a socket that sent an oversized or non-UTF-8 frame
  // (1009, 1007); graphql-ws would also print each such client error to stderr, which a hostile client
  // could use to flood the logs. Log it at debug level instead.
  wss.on('connection', (socket, request) => {
    socket.removeAllListeners('error');
    socket.on('error', (err) => log.debug({ err }, 'WebSocket client error'));
    boundSendBuffer(socket, sec.ws.maxBufferedBytes, log);
    batchWrites(socket, request.socket);
  });

  return {
    wss,
    stats: () => ({
      connections: live.size,
      subscriptions: [...live.keys()].reduce((n, c) => n + Object.keys(c.subscriptions).length, 0),
    }),
    async dispose() {
      revocations.stop();
      await ws.dispose();
    },
  };
}
