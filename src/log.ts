/** Structured JSON logs (pino); secrets redacted. */
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(level: string, name = 'longrun'): Logger {
  return pino({
    name,
    level,
    redact: { paths: ['req.headers.authorization', '*.authorization', '*.connectionParams', '*.token', '*.key'], censor: '[redacted]' },
  });
}
