/** A TCP proxy in front of a test app, to cut every connection at will (network loss), or slow it. */
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpProxy {
  port: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** Destroys every open connection (the proxy keeps listening, so clients can reconnect). */
  cut(): void;
  /**
   * Resets every open connection: its client gets a TCP RST (ECONNRESET, as on a failover or a cut link)
   * instead of an orderly close; the target's side is closed. The proxy keeps listening.
   */
  reset(): void;
  /** Cuts every connection and refuses new ones until the returned function is called (a longer outage). */
  hold(): () => void;
  /**
   * Cuts every connection and answers each new one's first bytes with `reply`, then closes it (a server
   * refusing connections with an error of its protocol: `postgresError`), until the returned function is called.
   */
  refuse(reply: Buffer): () => void;
  /**
   * Stops forwarding on every open connection without closing it (a silent network loss: a NAT or firewall
   * that dropped the flow, a peer gone without a FIN); new connections pass.
   */
  freeze(): void;
  /**
   * From now on, what the target sends reaches the client `ms` later (a slow link back). In order, as TCP
   * delivers: after the delay shrinks (0: at once again), what comes waits behind what is on its way.
   */
  slow(ms: number): void;
  /** The same for what the client sends to the target (a slow link out). */
  slowUpstream(ms: number): void;
  close(): Promise<void>;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const open = new Set<net.Socket>();
  const pairs = new Set<[net.Socket, net.Socket]>();
  let accepted = 0;
  let held = false;
  let slowMs = 0;
  let slowUpstreamMs = 0;
  let refusal: Buffer | null = null;
  const server = net.createServer((client) => {
    if (held) return void client.destroy();
    if (refusal) {
      const reply = refusal;
      client.on('error', () => {});
      client.once('data', () => client.end(reply));
      return;
    }
    accepted++;
    const upstream = net.connect(target.port, target.host);
    for (const s of [client, upstream]) {
      open.add(s);
      s.on('close', () => open.delete(s));
      s.on('error', () => {});
    }
    const pair: [net.Socket, net.Socket] = [client, upstream];
    pairs.add(pair);
    // Not piped, so that either way can be slowed.
    const toUpstream = delayedWriter(upstream, () => slowUpstreamMs);
    const toClient = delayedWriter(client, () => slowMs);
    client.on('data', (chunk: Buffer) => {
      if (pairs.has(pair)) toUpstream(chunk); // else frozen
    });
    upstream.on('data', (chunk: Buffer) => {
      if (pairs.has(pair)) toClient(chunk); // else frozen
    });
    client.on('close', () => (pairs.delete(pair), upstream.destroy()));
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as AddressInfo).port,
    get accepted() {
      return accepted;
    },
    cut: () => open.forEach((s) => s.destroy()),
    reset() {
      for (const [client, upstream] of [...pairs]) {
        client.resetAndDestroy();
        upstream.destroy();
      }
    },
    hold() {
      held = true;
      open.forEach((s) => s.destroy());
      return () => void (held = false);
    },
    refuse(reply) {
      refusal = reply;
      open.forEach((s) => s.destroy());
      return () => void (refusal = null);
    },
    freeze() {
      for (const [client, upstream] of pairs) {
        client.pause();
        upstream.pause();
      }
      pairs.clear();
    },
    slow(ms) {
      slowMs = ms;
    },
    slowUpstream(ms) {
      slowUpstreamMs = ms;
    },
    close: () => {
      open.forEach((s) => s.destroy());
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/**
 * Writes each chunk to `to` `delay()` ms after it came (the delay when it came), in order: a chunk never
 * overtakes one before it, even when the delay has shrunk meanwhile (an overtaking chunk could cut a protocol
 * message in two: the server would close the connection, and the client's reconnect hide what a test shows).
 */
function delayedWriter(to: net.Socket, delay: () => number): (chunk: Buffer) => void {
  const queue: { due: number; chunk: Buffer }[] = [];
  let timer: NodeJS.Timeout | null = null;
  const drain = () => {
    timer = null;
    while (queue.length && queue[0]!.due <= Date.now()) to.write(queue.shift()!.chunk);
    if (queue.length) timer = setTimeout(drain, queue[0]!.due - Date.now());
  };
  return (chunk) => {
    const ms = delay();
    if (ms <= 0 && !queue.length) return void to.write(chunk);
    queue.push({ due: Date.now() + ms, chunk });
    if (!timer) drain();
  };
}

/** A PostgreSQL ErrorResponse message (FATAL, SQLSTATE `code`), as the server sends one refusing a connection. */
export function postgresError(code: string, message: string): Buffer {
  const fields = Buffer.from(['SFATAL', 'VFATAL', `C${code}`, `M${message}`].map((f) => `${f}\0`).join('') + '\0');
  const head = Buffer.alloc(5);
  head.write('E', 0);
  head.writeInt32BE(fields.length + 4, 1);
  return Buffer.concat([head, fields]);
}

/** Default ports of the services the tests put a proxy in front of, by URL scheme. */
const DEFAULT_PORTS: Record<string, number> = { 'postgres:': 5432, 'postgresql:': 5432, 'nats:': 4222 };

/** A proxy in front of the service at `url`, and the same URL through the proxy (for one process's config). */
export async function startTcpProxyFor(url: string): Promise<{ proxy: TcpProxy; url: string }> {
  const u = new URL(url);
  const proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || DEFAULT_PORTS[u.protocol]) });
  u.host = `127.0.0.1:${proxy.port}`;
  return { proxy, url: u.toString() };
}
