/**
 * Structured JSON logs (pino) on stdout; pretty lines when stdout is a terminal and pino-pretty is
 * installed. Secrets are redacted: authorization headers, connection params, tokens, keys, passwords,
 * the webhook secret and signature, METRICS_TOKEN, and SMTP credentials.
 */
import { createRequire } from 'node:module';
import { pino, type DestinationStream, type Logger, type LoggerOptions } from 'pino';

export type { Logger };

/** Paths pino replaces with `[redacted]`. */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  '*.authorization',
  '*.connectionParams',
  '*.token',
  '*.key',
  '*.password',
  '*.secret',
  '*.WEBHOOK_SECRET',
  '*.WEBHOOK_SECRET_PREVIOUS',
  '*.METRICS_TOKEN',
  '*.SMTP_URL',
  '*.DATABASE_URL',
  '*.NATS_URL',
  '*["longrun-signature"]',
  'headers["longrun-signature"]',
  '*["longrun-signature-v2"]',
  'headers["longrun-signature-v2"]',
];

function prettyTransport(): LoggerOptions['transport'] | undefined {
  if (!process.stdout.isTTY) return undefined;
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
  } catch {
    return undefined; // not installed: JSON lines
  }
  return { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' } };
}

/** A logger; `destination` (tests) replaces stdout and turns pretty output off. */
export function createLogger(level: string, name = 'longrun', destination?: DestinationStream): Logger {
  const options: LoggerOptions = { name, level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } };
  if (destination) return pino(options, destination);
  const transport = prettyTransport();
  return pino(transport ? { ...options, transport } : options);
}
