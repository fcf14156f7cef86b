/**
 * What the SDK throws: a `LongrunError` with the server's `extensions.code` (NOT_FOUND, BAD_USER_INPUT,
 * SERVICE_UNAVAILABLE, …), or, for a lost connection that could not be re-established, code `NETWORK`; a
 * request over HTTP with no answer in `requestTimeoutMs`, `TIMEOUT`; an iterator still open, or a request still
 * waiting, when the client is closed ends with code `CLOSED`.
 */

/** A GraphQL error as it arrives on the wire. */
export interface GraphQLErrorBody {
  message: string;
  path?: readonly (string | number)[];
  extensions?: { code?: unknown; [k: string]: unknown };
}

export class LongrunError extends Error {
  override name = 'LongrunError';
  constructor(
    message: string,
    /** The server's `extensions.code`, or `NETWORK`, `TIMEOUT` or `CLOSED`. */
    readonly code: string,
    /** Every error of the response. */
    readonly errors: readonly GraphQLErrorBody[] = [],
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  /** The error for a response's `errors` (its first error's message and code). */
  static from(errors: readonly GraphQLErrorBody[]): LongrunError {
    const first = errors[0];
    const code = typeof first?.extensions?.code === 'string' ? first.extensions.code : 'INTERNAL_SERVER_ERROR';
    return new LongrunError(first?.message ?? 'GraphQL error', code, errors);
  }
}

export const isLongrunError = (e: unknown): e is LongrunError => e instanceof LongrunError;

/**
 * The code of an HTTP answer that carries no GraphQL response (a proxy's or load balancer's page): the one
 * longrun itself gives that status, so a client that backs off on RATE_LIMITED, or the submit batcher that
 * halves its batches on PAYLOAD_TOO_LARGE, does so for a proxy's 429 or 413 too.
 */
export function codeOfHttpStatus(status: number): string {
  const codes: Record<number, string> = { 401: 'UNAUTHENTICATED', 403: 'FORBIDDEN', 413: 'PAYLOAD_TOO_LARGE', 429: 'RATE_LIMITED' };
  return codes[status] ?? (status >= 500 ? 'SERVICE_UNAVAILABLE' : 'BAD_REQUEST');
}

/**
 * The error for an HTTP answer that carries no GraphQL response: the code longrun gives its status
 * ({@link codeOfHttpStatus}) and, when it has a `Retry-After` header, the wait it asks for in seconds as
 * `errors[0].extensions.retryAfter`, where longrun's own RATE_LIMITED has it.
 */
export function errorOfHttpAnswer(message: string, status: number, retryAfterHeader: string | null | undefined): LongrunError {
  const code = codeOfHttpStatus(status);
  const retryAfter = retryAfterSeconds(retryAfterHeader);
  return new LongrunError(message, code, [{ message, extensions: retryAfter === null ? { code } : { code, retryAfter } }]);
}

/**
 * A `Retry-After` value in whole seconds from `now`: delay-seconds as given, an HTTP date rounded up (0 once
 * it has passed); null when absent or neither.
 */
export function retryAfterSeconds(value: string | null | undefined, now = Date.now()): number | null {
  const v = value?.trim();
  if (!v) return null;
  if (/^\d+$/.test(v)) return Number(v);
  const at = /[a-z]/i.test(v) ? Date.parse(v) : NaN;
  return Number.isNaN(at) ? null : Math.max(0, Math.ceil((at - now) / 1000));
}

/** graphql-ws close codes that mean "do not try again" (bad request, forbidden, …). */
const FATAL_CLOSE_CODES = new Set([4400, 4401, 4403, 4406, 4409, 4429, 4500]);

const closeCode = (e: unknown): number | undefined =>
  typeof (e as { code?: unknown } | null)?.code === 'number' ? (e as { code: number }).code : undefined;

/** Whether a subscription failure is a lost connection worth reconnecting for. */
export function isRetryableClose(e: unknown): boolean {
  if (Array.isArray(e)) return false; // GraphQL errors
  const code = closeCode(e);
  return code === undefined || !FATAL_CLOSE_CODES.has(code);
}

/**
 * Turns whatever a graphql-ws iterator threw into a LongrunError; `neverReached`: the WebSocket URL, when
 * no connection to it was ever made.
 */
export function errorFromClose(e: unknown, neverReached: string | null = null): LongrunError {
  if (e instanceof LongrunError) return e;
  if (Array.isArray(e)) return LongrunError.from(e as GraphQLErrorBody[]);
  const code = closeCode(e);
  const reason = (e as { reason?: unknown } | null)?.reason;
  const detail = code !== undefined ? `closed with ${code}${reason ? ` (${String(reason)})` : ''}` : String((e as Error)?.message ?? e);
  const what = neverReached ? `cannot reach ${neverReached}` : 'connection to longrun lost';
  return new LongrunError(`${what}: ${detail}`, code === 4403 ? 'FORBIDDEN' : 'NETWORK', [], { cause: e });
}

/**
 * A subscription's failure as the server's error: a LongrunError (a result with errors), or graphql-ws' list
 * of errors (an `error` message: a failure mid-stream); else null (a close event).
 */
export const serverError = (e: unknown): LongrunError | null =>
  e instanceof LongrunError ? e : Array.isArray(e) ? LongrunError.from(e as GraphQLErrorBody[]) : null;
