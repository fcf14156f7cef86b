/**
 * A raw WebSocket speaking graphql-transport-ws by hand, for tests of the protocol itself (close codes,
 * malformed messages, a client that stops reading).
 */
import WebSocket from 'ws';

export interface RawSocket {
  ws: WebSocket;
  /** Parsed messages received so far. */
  messages: any[];
  opened: Promise<void>;
  closed: Promise<{ code: number; reason: string }>;
  send(message: unknown): void;
  /** Resolves with the first received message matching `match`. */
  next(match: (m: any) => boolean, timeoutMs?: number): Promise<any>;
}

/** @param protocol the subprotocol to ask for; null asks for none */
export function rawSocket(url: string, protocol: string | null = 'graphql-transport-ws'): RawSocket {
  const ws = protocol === null ? new WebSocket(url) : new WebSocket(url, protocol);
  const messages: any[] = [];
  const waiters: { match: (m: any) => boolean; resolve: (m: any) => void }[] = [];
  ws.on('message', (data) => {
    let m: unknown;
    try {
      m = JSON.parse(String(data));
    } catch {
      m = String(data);
    }
    messages.push(m);
    for (const w of [...waiters]) if (w.match(m)) {
      waiters.splice(waiters.indexOf(w), 1);
      w.resolve(m);
    }
  });
  const opened = new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: String(reason) })));
  return {
    ws,
    messages,
    opened,
    closed,
    send: (message) => ws.send(typeof message === 'string' || Buffer.isBuffer(message) ? message : JSON.stringify(message)),
    next(match, timeoutMs = 10_000) {
      const found = messages.find(match);
      if (found) return Promise.resolve(found);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no matching message in ${timeoutMs} ms; got ${JSON.stringify(messages).slice(0, 500)}`)), timeoutMs);
        waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
      });
    },
  };
}
