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
 */
import type http from 'node:http';
import { CloseCode, handleProtocols, makeServer, MessageType, type ServerOptions } from 'graphql-ws';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log.js';

/** What graphql-ws' context carries as `extra` for each socket. */
export interface SocketExtra {
  socket: WebSocket;
  request: http.IncomingMessage;
}

/** Message types only the server sends. */
const SERVER_ONLY = new Set<string>([MessageType.Next, MessageType.Error, MessageType.ConnectionAck]);

/** The `type` of a message's JSON, if it has one. */
function typeOf(text: string): unknown {
  try {
    return (JSON.parse(text) as { type?: unknown } | null)?.type;
  } catch {
    return undefined;
  }
}

/** Serves graphql-ws on `wss`; answers the function that closes every socket (1001) and the server. */
export function serveGraphqlWs<P extends Record<string, unknown>>(
  options: ServerOptions<P, SocketExtra>,
  wss: WebSocketServer,
  log: Logger,
): () => Promise<void> {
  const server = makeServer(options);
  wss.options.handleProtocols = handleProtocols;
  wss.on('connection', (socket, request) => {
    socket.on('error', (err) => log.debug({ err }, 'WebSocket client error'));
    const failed = (text: string) => (err: unknown) => {
      const type = typeOf(text);
      if (typeof type === 'string' && SERVER_ONLY.has(type)) {
        log.debug({ type }, 'graphql-ws: a client sent a message only the server sends');
        socket.close(CloseCode.BadRequest, 'Invalid message received');
        return;
      }
      log.error({ err }, 'graphql-ws: internal error while handling a message');
      socket.close(CloseCode.InternalServerError, 'Internal server error');
    };
    const closed = server.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          new Promise<void>((resolve, reject) => {
            if (socket.readyState !== socket.OPEN) return resolve();
            socket.send(data, (err) => (err ? reject(err) : resolve()));
          }),
        close: (code, reason) => socket.close(code, reason),
        onMessage: (cb) =>
          socket.on('message', (data) => {
            const text = String(data);
            cb(text).catch(failed(text));
          }),
      },
      { socket, request },
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
