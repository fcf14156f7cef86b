/**
 * POST over node:http(s) through keep-alive agents: the SDK's default transport (undici's `fetch` costs the
 * caller about 0.4 ms of CPU per request, node:http about a quarter of that; docs/performance.md). The bench's
 * load generator sends its GraphQL requests with it too.
 */
import http from 'node:http';
import https from 'node:https';

/** What `request` needs of an HTTP answer. */
export interface HttpAnswer {
  status: number;
  /** The answer's headers (a `fetch` Response has them); read for `Retry-After`. */
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}
export type Post = (
  url: string,
  init: { method: 'POST'; headers: Record<string, string>; body: string; signal?: AbortSignal },
) => Promise<HttpAnswer>;

/**
 * How long an idle kept-alive socket is kept when the server does not say (`Keep-Alive: timeout=…`). Given
 * any `timeout`, node's agent closes an idle socket a second before the server's announced timeout (5 s from
 * a node server such as longrun's API); given none, it ignores the announcement and keeps the socket until
 * the server closes it, and a request sent on it as the server closes it fails with ECONNRESET. The value
 * also arms an inactivity timer on sockets in use, which does nothing to a request (the call's own deadline
 * is its signal).
 */
const IDLE_SOCKET_MS = 30_000;

/** POST over node:http(s) through keep-alive agents (idle sockets do not keep the process alive). */
export function nodePost(): { post: Post; close(): void } {
  const options = { keepAlive: true, timeout: IDLE_SOCKET_MS };
  const agents = { 'http:': new http.Agent(options), 'https:': new https.Agent(options) };
  // A client posts to one URL: it is parsed once, not per request.
  let target: { url: string; u: URL; lib: typeof http | typeof https; agent: http.Agent } | null = null;
  const targetOf = (url: string) => {
    if (target?.url !== url) {
      const u = new URL(url);
      const tls = u.protocol === 'https:';
      target = { url, u, lib: tls ? https : http, agent: tls ? agents['https:'] : agents['http:'] };
    }
    return target;
  };
  const post: Post = (url, init) =>
    new Promise((resolve, reject) => {
      const { u, lib, agent } = targetOf(url);
      // Aborted (no answer in time): the request and its socket go, and the call fails with the reason. The
      // listener goes when the call settles: the signal would otherwise hold the request until it fires.
      const abort = () => req.destroy(init.signal!.reason as Error);
      const settle = <A extends unknown[]>(fn: (...a: A) => void) => (...a: A) => {
        init.signal?.removeEventListener('abort', abort);
        fn(...a);
      };
      const req = lib.request(u, { method: init.method, headers: { ...init.headers, 'content-length': Buffer.byteLength(init.body) }, agent }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', settle(reject));
        res.on('end', settle(() => {
          const text = Buffer.concat(chunks).toString('utf8');
          const get = (name: string) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          };
          resolve({ status: res.statusCode ?? 0, headers: { get }, text: async () => text });
        }));
      });
      req.on('error', settle(reject));
      init.signal?.addEventListener('abort', abort, { once: true });
      req.end(init.body);
    });
  return { post, close: () => Object.values(agents).forEach((a) => a.destroy()) };
}
