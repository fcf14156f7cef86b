/**
 * graphql-ws' protocol server (`makeServer`) on a `ws` WebSocketServer: what graphql-ws/use/ws does, less
 * what does not fit a server open to any client.
 * - No keep-alive of its own: sockets are pinged by `dropSilentSockets` (ws-socket.ts), as
 *   WS_PING_INTERVAL_MS says, or never.
 * - A message a client may not send (`next`, `error`, `connection_ack`: the server's own) closes the socket
 *   with 4400, as any other malformed message does; use/ws took it for an internal error (4500, its text as
 *   the close reason) and wrote its stack to stderr, so any client could flood the process' output.
 * - An internal error while handling a message is logged (`log.error`), and the socket closed with 4500
 *   "Internal server error", never with the error's text.
 * - A socket's `error` (a frame too large, not UTF-8: ws closes the socket itself) is logged at debug level.
 * - A close reason is cut to fit a close frame (`fitCloseReason`).
 * - One operation per id at a time (`operationOrder`): graphql-ws keeps one record per operation id and
 *   forgets an operation as soon as its client completes it, before the operation has finished here.
 */
import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, MessageType, type Context, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log.js';

/** What graphql-ws' context carries as `extra` for each socket. */
export interface SocketExtra {
  socket: WebSocket;
  request: http.IncomingMessage;
}

/** Most bytes of a close frame's reason (RFC 6455: 125 bytes of payload, 2 of them the code). */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * A close reason that fits a close frame: cut, ending in `…`, past 123 bytes. graphql-ws quotes the client's
 * operation id in a 4409's reason, and ws throws on a longer one (the socket then closed as for an internal
 * error, logged).
 */
function fitCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= MAX_CLOSE_REASON_BYTES) return reason;
  const chars = [...reason];
  let bytes = Buffer.byteLength('…');
  let n = 0;
  while (n < chars.length && bytes + Buffer.byteLength(chars[n]!) <= MAX_CLOSE_REASON_BYTES) bytes += Buffer.byteLength(chars[n++]!);
  return chars.slice(0, n).join('') + '…';
}

/** Message types only the server sends. */
const SERVER_ONLY = new Set<string>([MessageType.Next, MessageType.Error, MessageType.ConnectionAck]);

/** A message's `type` and `id`, as far as its JSON has them. */
function fieldsOf(text: string): { type?: unknown; id?: unknown } {
  try {
    const m: unknown = JSON.parse(text);
    return typeof m === 'object' && m !== null ? (m as { type?: unknown; id?: unknown }) : {};
  } catch {
    return {};
  }
}

/** A subscribe or complete message's type and operation id. */
function operationOf(text: string): { type: string; id: string } | null {
  const { type, id } = fieldsOf(text);
  return (type === MessageType.Subscribe || type === MessageType.Complete) && typeof id === 'string' ? { type, id } : null;
}

/**
 * One socket's messages handed to graphql-ws so that an operation id names one operation at a time.
 * graphql-ws forgets an operation as soon as its client completes it, while the operation may not have
 * finished (its setup reading PostgreSQL, its last result on the way): a subscribe reusing the id then ran
 * beside it, both answering under that id, and the first could no longer be ended (it streamed on after the
 * socket closed). Such a subscribe, and every later message with its id, is held until that operation has
 * finished. A subscribe for an id whose operation is still on is handed over at once (graphql-ws closes
 * the socket with 4409).
 *
 * @param handle hands a message over; answers when graphql-ws is done with it, and the id of the operation
 *   it started (a subscribe), if it did
 * @param active whether graphql-ws still holds the operation of an id (the client has not completed it)
 */
function operationOrder(handle: (text: string) => { done: Promise<void>; started: string | null }, active: (id: string) => boolean) {
  /** Per id, graphql-ws' handling of the operation it runs under that id, until it is done with it. */
  const running = new Map<string, Promise<void>>();
  /** Per id, the messages held back: settles once the last of them is handed over. */
  const held = new Map<string, Promise<void>>();

  const handOver = (text: string) => {
    const { done, started } = handle(text);
    if (started === null) return;
    running.set(started, done);
    void done.then(() => running.get(started) === done && running.delete(started));
  };
  return (text: string): void => {
    // Only parsed while some operation is finishing, or messages wait: graphql-ws parses each message again.
    const finishing = held.size > 0 || [...running.keys()].some((id) => !active(id));
    const m = finishing ? operationOf(text) : null;
    const before = m && (held.get(m.id) ?? (m.type === MessageType.Subscribe && !active(m.id) ? running.get(m.id) : undefined));
    if (!m || !before) return handOver(text);
    const after = before.then(() => handOver(text));
    held.set(m.id, after);
    void after.then(() => held.get(m.id) === after && held.delete(m.id));
  };
}

/** Serves graphql-ws on `wss`; answers the function that closes every socket (1001) and the server. */
export function serveGraphqlWs<P extends Record<string, unknown>>(
  options: ServerOptions<P, SocketExtra>,
  wss: WebSocketServer,
  log: Logger,
): () => Promise<void> {
  const contexts = new WeakMap<SocketExtra, Context<P, SocketExtra>>();
  /** The operation id of the subscribe message being handed over (graphql-ws calls onSubscribe at once). */
  let subscribing: string | null = null;
  const server = makeServer<P, SocketExtra>({
    ...options,
    onConnect(ctx) {
      contexts.set(ctx.extra, ctx);
      return options.onConnect?.(ctx);
    },
    onSubscribe(ctx, id, payload) {
      subscribing = id;
      return options.onSubscribe?.(ctx, id, payload);
    },
  });
  wss.options.handleProtocols = handleProtocols;
  wss.on('connection', (socket, request) => {
    socket.on('error', (err) => log.debug({ err }, 'WebSocket client error'));
    const failed = (text: string) => (err: unknown) => {
      const { type } = fieldsOf(text);
      if (typeof type === 'string' && SERVER_ONLY.has(type)) {
        log.debug({ type }, 'graphql-ws: a client sent a message only the server sends');
        socket.close(CloseCode.BadRequest, 'Invalid message received');
        return;
      }
      log.error({ err }, 'graphql-ws: internal error while handling a message');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    };
    const extra: SocketExtra = { socket, request };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason === undefined ? undefined : fitCloseReason(reason)),
        onMessage(cb) {
          const order = operationOrder(
            (text) => {
              subscribing = null;
              const done = cb(text).catch(failed(text));
              return { done, started: subscribing };
            },
            (id) => {
              const ctx = contexts.get(extra);
              return !ctx || id in ctx.subscriptions;
            },
          );
          socket.on('message', (data) => order(String(data)));
        },
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      closed(code, String(reason)).catch((err: unknown) => log.error({ err }, 'graphql-ws: internal error while closing a socket'));
    });
  });
  return async () => {
    for (const client of wss.clients) client.close(1001, 'Going away');
    wss.removeAllListeners();
    await new Promise<void>((resolve, reject) => wss.close((err) => (err ? reject(err) : resolve())));
  };
}
