/**
 * What is written to a graphql-ws socket, and how fast: the cap on unsent data (1013 for a client that
 * reads too slowly), writes batched per event-loop turn, and the frame flow control of subscriptions.
 */
import type { Duplex } from 'node:stream';
import type { WebSocket, WebSocketServer } from 'ws';
import type { Logger } from '../log.js';

/** Close code of a socket whose reader is too slow: 1013 Try Again Later (graphql-ws clients retry it). */
const SLOW_CONSUMER_CLOSE = { code: 1013, reason: 'send buffer full: the client reads too slowly' } as const;

/** TCP sockets corked since the last `flushWrites`. */
const corked = new Set<Duplex>();
let flushQueued = false;

/** Sends the frames every corked socket holds (one write each). */
export function flushWrites(): void {
  flushQueued = false;
  for (const raw of corked) raw.uncork();
  corked.clear();
}

/**
 * Wraps a socket's `send`, the one place that decides what is written to it:
 * - unsent data is capped: a send that would pass `max` closes the socket with SLOW_CONSUMER_CLOSE and is
 *   dropped (a subscription waits for its frames to be written once the socket holds FLOW_BYTES unsent, see
 *   `sendFrame`; this bounds the sum over all of a socket's subscriptions);
 * - frames sent close together leave together: the first send corks the TCP socket (`raw`), and
 *   `flushWrites` uncorks it: after each update's fan-out (see UpdateHub.afterDispatch) and, for anything
 *   else, once the event loop's current turn is done (setImmediate). With many subscriptions per socket, one
 *   write (one system call) carries all the frames of a fan-out instead of one write per frame.
 */
export function guardSends(socket: WebSocket, raw: Duplex, max: number, log: Logger): void {
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
    if (!corked.has(raw)) {
      raw.cork();
      corked.add(raw);
      if (!flushQueued) {
        flushQueued = true;
        setImmediate(flushWrites);
      }
    }
    send(data, cb);
  };
}

/** Unsent bytes of a socket under which a subscription's frame is sent without waiting for it to be written. */
const FLOW_BYTES = 64 * 1024;

/**
 * Writes a text frame. Past FLOW_BYTES unsent on the socket, answers a promise of the frame being written,
 * so that its subscription waits (and jobProgress coalesces its progress meanwhile); nothing when the
 * socket is closing (the frame is dropped, as graphql-ws does).
 */
export function sendFrame(socket: WebSocket, frame: string): Promise<void> | undefined {
  if (socket.readyState !== socket.OPEN) return undefined;
  if (socket.bufferedAmount < FLOW_BYTES) {
    socket.send(frame);
    return undefined;
  }
  return new Promise((resolve, reject) => socket.send(frame, (err) => (err ? reject(err) : resolve())));
}

/**
 * Drops sockets that stopped answering. Every `intervalMs` each socket is pinged (a WebSocket ping frame:
 * clients answer it by themselves); one that has not answered the previous ping is terminated, so a
 * connection that died silently (a NAT or firewall dropped it, the client's machine went away: no close
 * reaches the server) gives back its key's connection and subscription slots and its memory within two
 * intervals. 0: never. Answers the function that stops it.
 */
export function dropSilentSockets(wss: WebSocketServer, intervalMs: number): () => void {
  if (intervalMs <= 0) return () => {};
  const answered = new WeakSet<WebSocket>();
  wss.on('connection', (socket) => {
    answered.add(socket);
    socket.on('pong', () => answered.add(socket));
  });
  const timer = setInterval(() => {
    for (const socket of wss.clients) {
      if (!answered.delete(socket)) socket.terminate();
      else socket.ping();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
