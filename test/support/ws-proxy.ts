/**
 * A WebSocket proxy in front of a test app, as a load balancer or a reverse proxy is: each client connection
 * has its own to the app, messages pass as they are, and it can end the client connections with a close code
 * of its own (1000, normal closure: what such a proxy sends when it times a connection out or drains).
 */
import type { AddressInfo } from 'node:net';
import { WebSocket, WebSocketServer, type RawData } from 'ws';

export interface WsProxy {
  /** The proxy's WebSocket URL (the target's path). */
  url: string;
  /** Client connections accepted so far. */
  readonly accepted: number;
  /**
   * The close code of each client connection ended so far, in the order they ended: the client's, as it sent
   * it in its close frame (1006: the connection cut with none).
   */
  readonly closeCodes: readonly number[];
  /** Closes every open client connection with `code`, and its connection to the app with 1000. */
  closeAll(code: number): void;
  /**
   * Holds the client connections accepted from now on: their handshake is answered, but they reach the app
   * only once the returned function is called (what they send meanwhile is kept and passed on then).
   */
  hold(): () => void;
  /**
   * Stops reading the client connections open now, so their closing handshake waits unanswered (a slow
   * server or network), until the returned function is called.
   */
  holdCloses(): () => void;
  close(): Promise<void>;
}

export async function startWsProxy(target: string): Promise<WsProxy> {
  const server = new WebSocketServer({ host: '127.0.0.1', port: 0, handleProtocols: (protocols) => protocols.values().next().value ?? false });
  const open = new Map<WebSocket, () => WebSocket | undefined>();
  let accepted = 0;
  const closeCodes: number[] = [];
  let held: (() => void)[] | null = null;
  server.on('connection', (client) => {
    accepted++;
    let upstream: WebSocket | undefined;
    const queued: [RawData, boolean][] = [];
    client.on('error', () => {});
    client.on('message', (data, binary) => {
      if (upstream?.readyState === WebSocket.OPEN) upstream.send(data, { binary });
      else queued.push([data, binary]);
    });
    client.on('close', (code) => {
      closeCodes.push(code);
      open.delete(client);
      upstream?.close(1000);
    });
    open.set(client, () => upstream);
    const connect = () => {
      if (client.readyState !== WebSocket.OPEN) return;
      const u = (upstream = new WebSocket(target, client.protocol));
      u.on('error', () => {});
      u.on('open', () => queued.splice(0).forEach(([data, binary]) => u.send(data, { binary })));
      u.on('message', (data, binary) => client.send(data, { binary }));
      // The app's close passed on as it is (1001 when it shuts down); one with no code of its own as a reset.
      u.on('close', (code, reason) => (code === 1005 || code === 1006 ? client.terminate() : client.close(code, reason)));
    };
    if (held) held.push(connect);
    else connect();
  });
  await new Promise<void>((resolve) => server.once('listening', resolve));
  return {
    url: `ws://127.0.0.1:${(server.address() as AddressInfo).port}${new URL(target).pathname}`,
    get accepted() {
      return accepted;
    },
    closeCodes,
    closeAll(code) {
      for (const [client, upstream] of open) {
        client.close(code, 'closed by the proxy');
        upstream()?.close(1000);
      }
    },
    hold() {
      const waiting: (() => void)[] = (held = []);
      return () => {
        held = null;
        waiting.forEach((connect) => connect());
      };
    },
    holdCloses() {
      const paused = [...open.keys()];
      paused.forEach((client) => client.pause());
      return () => paused.forEach((client) => client.resume());
    },
    close() {
      for (const [client, upstream] of open) {
        client.terminate();
        upstream()?.terminate();
      }
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
