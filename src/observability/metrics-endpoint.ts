/**
 * `GET /metrics` itself, for both ports that serve it: the API's (src/http/server.ts) and a worker process's
 * METRICS_PORT (metrics-server.ts). With METRICS_TOKEN set, only a request with `Authorization: Bearer <token>`
 * is answered; any other gets 401 before anything is read, so a refused scrape costs no NATS or PostgreSQL
 * read. Unset, the endpoint is open (a production process says so once at start: `warnIfMetricsOpen`).
 * Its errors are one text line, `<code>: <what to do>` (`unauthorized`, `internal_error`); a failed render
 * is logged, and its message is not sent.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Logger } from '../log.js';
import { metricsRenderer } from './scrape.js';

export type MetricsHandler = (req: IncomingMessage, res: ServerResponse) => void;

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/**
 * Whether an `Authorization` header value is `Bearer <token>` (the scheme in any case, as RFC 9110 has it).
 * The token is compared as SHA-256 digests with `timingSafeEqual`: equal lengths whatever was sent, so the
 * time taken tells neither the token's length nor how much of it was right.
 */
export function bearerCheck(token: string): (authorization: string | undefined) => boolean {
  const expected = sha256(token);
  return (authorization) => {
    const sent = /^Bearer +(\S+) *$/i.exec(authorization ?? '')?.[1];
    return sent !== undefined && timingSafeEqual(sha256(sent), expected);
  };
}

/** An error answer of `GET /metrics`: one line, `<code>: <message>`. */
function refuse(res: ServerResponse, status: number, code: 'unauthorized' | 'internal_error', message: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'text/plain; charset=utf-8' }).end(`${code}: ${message}\n`);
}

/**
 * The handler of `GET /metrics`: the process registry plus `extra`; `token` unset = open. A render that
 * fails is logged (`log`) and answered 500 `internal_error` without its message, which can name internals
 * (hosts, addresses, SQL).
 */
export function metricsHandler(extra: Registry, token: string | undefined, log: Logger): MetricsHandler {
  const allowed = token === undefined ? () => true : bearerCheck(token);
  const render = metricsRenderer(extra);
  return (req, res) => {
    if (!allowed(req.headers.authorization)) {
      refuse(res, 401, 'unauthorized', '/metrics needs Authorization: Bearer <METRICS_TOKEN>', { 'www-authenticate': 'Bearer realm="metrics"' });
      return;
    }
    render().then(
      (m) => res.writeHead(200, { 'content-type': m.contentType }).end(m.body),
      (e: unknown) => {
        log.error({ err: e }, 'metrics: /metrics could not be rendered; answered 500');
        refuse(res, 500, 'internal_error', "/metrics could not be rendered; the cause is in this process's log");
      },
    );
  };
}

/** In production, one warning at start that this process's `/metrics` (on `port`) is open (METRICS_TOKEN unset). */
export function warnIfMetricsOpen(config: Pick<Config, 'NODE_ENV' | 'METRICS_TOKEN'>, log: Logger, port: number): void {
  if (config.NODE_ENV !== 'production' || config.METRICS_TOKEN !== undefined) return;
  log.warn(
    { port },
    '/metrics is open (METRICS_TOKEN unset): anyone who reaches this port reads every tenant\'s job types and counts, and each scrape reads NATS and PostgreSQL; set METRICS_TOKEN or keep the port from the public',
  );
}
