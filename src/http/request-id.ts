/** Request ids and header values shared by the HTTP and WebSocket transports. */
import { randomUUID } from 'node:crypto';

/** `x-request-id` of the request (or a new one), echoed in the response and put in every log line of it. */
export function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

/** The first value of a header, or null. */
export const headerOf = (h: string | string[] | undefined): string | null => (Array.isArray(h) ? h[0] : h) ?? null;
