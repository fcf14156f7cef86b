/**
 * Real local receivers for notification tests: an HTTP webhook receiver whose answers a test scripts, and an
 * SMTP server (smtp-server) that keeps every message it accepts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';

export interface ReceivedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The raw body, exactly as sent (what the signature covers). */
  raw: string;
  /** The status the receiver answered. */
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

export interface WebhookReceiver {
  /** Base URL, e.g. http://127.0.0.1:PORT */
  url: string;
  requests: ReceivedRequest[];
  /** Sets how a path answers: a status per call (the last repeats), with `headers` on its refusals. */
  script(path: string, statuses: number[], headers?: Record<string, string>): void;
  close(): Promise<void>;
}

export interface WebhookReceiverOptions {
  /**
   * Checks each request as a receiver would (its signature): a status to answer instead of the script's
   * (e.g. 401), or undefined to let the script answer.
   */
  check?: (headers: http.IncomingHttpHeaders, raw: string) => number | undefined;
}

export async function startWebhookReceiver(o: WebhookReceiverOptions = {}): Promise<WebhookReceiver> {
  const scripts = new Map<string, { statuses: number[]; headers: Record<string, string> }>();
  const calls = new Map<string, number>();
  const requests: ReceivedRequest[] = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (raw += c));
    req.on('end', () => {
      const path = req.url ?? '/';
      const n = calls.get(path) ?? 0;
      calls.set(path, n + 1);
      const { statuses, headers } = scripts.get(path) ?? { statuses: [200], headers: {} };
      const status = o.check?.(req.headers, raw) ?? statuses[Math.min(n, statuses.length - 1)]!;
      requests.push({ path, headers: req.headers, raw, status, at: Date.now() });
      res.writeHead(status, { 'content-type': 'text/plain', ...(status < 300 ? {} : headers) }).end(status < 300 ? 'ok' : 'receiver says no');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    script: (path, statuses, headers = {}) => void scripts.set(path, { statuses, headers }),
    close: () => new Promise((r) => server.close(() => r())),
  };
}

export interface SlowReceiver {
  /** A webhook URL on it. */
  url: string;
  /** When each POST arrived (ms since the epoch). */
  posts: number[];
  close(): Promise<void>;
}

/** A webhook receiver that answers every POST 200, `answerAfterMs` after it has read it. */
export async function startSlowReceiver(answerAfterMs: number): Promise<SlowReceiver> {
  const posts: number[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      posts.push(Date.now());
      const t = setTimeout(() => res.writeHead(200).end('ok'), answerAfterMs);
      res.on('close', () => clearTimeout(t));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    posts,
    close: () => new Promise<void>((r) => (server.closeAllConnections(), server.close(() => r()))),
  };
}

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
}

export interface SmtpReceiver {
  url: string;
  messages: ReceivedMail[];
  close(): Promise<void>;
}

/** A real SMTP server on a free loopback port (no TLS, no auth) that keeps what arrives. */
export async function startSmtpReceiver(): Promise<SmtpReceiver> {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = '';
      stream.setEncoding('utf8');
      stream.on('data', (c: string) => (raw += c));
      stream.on('end', () => {
        const from = session.envelope.mailFrom;
        messages.push({ from: from ? from.address : undefined, to: session.envelope.rcptTo.map((r) => r.address), raw });
        callback();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.server.address() as AddressInfo;
  return { url: `smtp://127.0.0.1:${port}`, messages, close: () => new Promise((r) => server.close(() => r())) };
}

/** Polls until `check()` returns a value (not undefined/false) or the timeout. */
export async function eventually<T>(check: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
