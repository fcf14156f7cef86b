/**
 * Error classes (nats.js shape: extend Error, set `name`, keep `cause`, export `isX()` guards) and the one
 * list of codes the GraphQL edge puts in `extensions.code` / `UserError.code`.
 */
import { types } from 'node:util';

/** Codes of top-level GraphQL errors (`extensions.code`). */
export const ErrorCode = {
  NOT_FOUND: 'NOT_FOUND',
  SERVICE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  BAD_USER_INPUT: 'BAD_USER_INPUT',
  /**
   * A `jobUpdates` replay (`since`, `lastSeenAt`, or a reread) would pass its bound: more changed since then
   * than one replay sends. Page `jobs` for the current state, then go on live or from a later instant;
   * `extensions.since` is the instant the replay would have started from.
   */
  REPLAY_TOO_LARGE: 'REPLAY_TOO_LARGE',
  INTERNAL_SERVER_ERROR: 'INTERNAL_SERVER_ERROR',
  // Security: authentication and limits (the README's Security section lists each limit and its default).
  /** No API key, an unknown or malformed one, or a revoked one. */
  UNAUTHENTICATED: 'UNAUTHENTICATED',
  /** The operation needs an admin key (`purgeJobs`, `pauseJobType`, `resumeJobType`: `requireAdmin`; another owner's webhook secrets or schedules). */
  FORBIDDEN: 'FORBIDDEN',
  /** The request body is larger than HTTP_BODY_LIMIT_BYTES. */
  PAYLOAD_TOO_LARGE: 'PAYLOAD_TOO_LARGE',
  /** The request could not be read (malformed JSON, wrong content type, batched operations). */
  BAD_REQUEST: 'BAD_REQUEST',
  /** Selection sets nested deeper than GRAPHQL_MAX_DEPTH. */
  QUERY_TOO_DEEP: 'QUERY_TOO_DEEP',
  /** The operation's estimated cost is above GRAPHQL_MAX_COST. */
  QUERY_TOO_COSTLY: 'QUERY_TOO_COSTLY',
  /** More aliased fields than GRAPHQL_MAX_ALIASES. */
  TOO_MANY_ALIASES: 'TOO_MANY_ALIASES',
  /** Too many jobs submitted per second with this key; `extensions.retryAfter` says when to try again, `remaining` how many fit now. */
  RATE_LIMITED: 'RATE_LIMITED',
  /** This key has MAX_CONNECTIONS_PER_KEY WebSocket connections open already. */
  TOO_MANY_CONNECTIONS: 'TOO_MANY_CONNECTIONS',
  /** This key has MAX_SUBSCRIPTIONS_PER_KEY subscriptions running already. */
  TOO_MANY_SUBSCRIPTIONS: 'TOO_MANY_SUBSCRIPTIONS',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

/** Codes of `UserError.code` in mutation payloads: the input was refused and nothing was written. */
export const UserErrorCode = {
  UNKNOWN_JOB_TYPE: 'UNKNOWN_JOB_TYPE',
  INVALID_PAYLOAD: 'INVALID_PAYLOAD',
  OUT_OF_RANGE: 'OUT_OF_RANGE',
  INVALID_STATE: 'INVALID_STATE',
  /** The idempotency key names a job of another type (the caller's, or an earlier input of the batch). */
  IDEMPOTENCY_KEY_REUSED: 'IDEMPOTENCY_KEY_REUSED',
  /** `notify` entry: not exactly one of webhook/email, an empty `on`, or a non-terminal state in it. */
  INVALID_NOTIFY: 'INVALID_NOTIFY',
  /** Not an absolute http(s) URL without credentials. */
  INVALID_WEBHOOK_URL: 'INVALID_WEBHOOK_URL',
  /** The webhook host is not in WEBHOOK_ALLOWED_HOSTS, or is a loopback/private/link-local/metadata address. */
  WEBHOOK_NOT_ALLOWED: 'WEBHOOK_NOT_ALLOWED',
  INVALID_EMAIL: 'INVALID_EMAIL',
  /** The server has no WEBHOOK_SECRET (webhooks) or SMTP_URL (email). */
  NOTIFY_NOT_CONFIGURED: 'NOTIFY_NOT_CONFIGURED',
  /** `upsertSchedule`: a cron expression or time zone that cannot be read, or a cron that never comes. */
  INVALID_SCHEDULE: 'INVALID_SCHEDULE',
  /** `deleteSchedule`: the caller has no schedule of that name. */
  UNKNOWN_SCHEDULE: 'UNKNOWN_SCHEDULE',
  /** Fields that cannot be given together (`retryJobs`: `ids` and a filter field or `limit`). */
  CONFLICTING_INPUT: 'CONFLICTING_INPUT',
} as const;
export type UserErrorCode = (typeof UserErrorCode)[keyof typeof UserErrorCode];

/** A refused input, reported in a mutation payload's `userErrors`. */
export interface UserError {
  code: UserErrorCode;
  field: string[] | null;
  message: string;
}

/**
 * An error with a GraphQL `extensions.code`; the message (and `extensions`, sent next to the code) is safe to
 * show to clients.
 */
export class PublicError extends Error {
  override name = 'PublicError';
  /** Sent in `extensions` next to `code`, e.g. `retryAfter`. */
  readonly extensions: Record<string, unknown>;
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; extensions?: Record<string, unknown> },
  ) {
    super(message, options);
    this.extensions = options?.extensions ?? {};
  }
}
export const isPublicError = (e: unknown): e is PublicError => e instanceof PublicError;

/** No such job (or not visible to the caller). */
export class NotFoundError extends PublicError {
  override name = 'NotFoundError';
  constructor(what: string) {
    super(ErrorCode.NOT_FOUND, `${what} not found`);
  }
}

/** A backing service (PostgreSQL, NATS) could not be reached; the client may retry. */
export class ServiceUnavailableError extends PublicError {
  override name = 'ServiceUnavailableError';
  constructor(service: string, cause?: unknown) {
    super(ErrorCode.SERVICE_UNAVAILABLE, `${service} is unavailable, try again`, { cause });
  }
}

/** A guarded state transition matched no row: the job was not in an allowed state (or the attempt is stale). */
export class InvalidTransitionError extends Error {
  override name = 'InvalidTransitionError';
  constructor(
    readonly jobId: string,
    readonly transition: string,
  ) {
    super(`job ${jobId}: ${transition} not allowed from its current state`);
  }
}
export const isInvalidTransitionError = (e: unknown): e is InvalidTransitionError =>
  e instanceof InvalidTransitionError;

/**
 * Thrown by a handler to fail the job at once, without further attempts.
 * @example throw new PermanentJobError('video codec not supported')
 */
export class PermanentJobError extends Error {
  override name = 'PermanentJobError';
}
export const isPermanentJobError = (e: unknown): e is PermanentJobError =>
  e instanceof PermanentJobError || (isAnyError(e) && e.name === 'PermanentJobError');

/**
 * An Error of this realm or of another one (a `vm` context, a test environment's globals), where
 * `instanceof Error` is false: its message and name are still what it says.
 */
export const isAnyError = (e: unknown): e is Error => e instanceof Error || types.isNativeError(e);

/** An attempt ran past its type's (or job's) timeout. Retryable. */
export class JobTimeoutError extends Error {
  override name = 'JobTimeoutError';
  constructor(ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/** Thrown where a `switch` should have covered every case. */
export class UnreachableCaseError extends Error {
  override name = 'UnreachableCaseError';
  constructor(value: never) {
    super(`unreachable case: ${JSON.stringify(value)}`);
  }
}

/** An error's `code`: a PostgreSQL SQLSTATE, or a Node or driver code (`ECONNREFUSED`, `CONNECTION_CLOSED`). */
const codeOf = (e: unknown): string | undefined => {
  const code = (e as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
};

/** A PostgreSQL data exception (SQLSTATE class 22): a value the statement refused, e.g. U+0000 in jsonb. */
export const isDataError = (e: unknown): boolean => codeOf(e)?.startsWith('22') ?? false;

/**
 * Errors that mean PostgreSQL cannot take the request now, and the same request may go through later: it
 * could not be reached (connection refused, closed or terminated; its host name not resolved or not
 * routable, as while a container or a DNS record is being replaced), it refuses connections (too many
 * clients; starting up or shutting down), it is a read-only standby (a failover under way), or it cancelled
 * the statement (an operator, a statement timeout).
 */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'EHOSTDOWN',
  'ENETUNREACH', 'ENETDOWN', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT',
  '57P01', '57P02', '57P03', '57014', '08006', '08001', '08003', '08004', '53300', '25006',
]);

/**
 * Whether PostgreSQL rolled the transaction back to break a deadlock (40P01) or a serialization conflict
 * (40001): nothing of it was written, and the same statement, run again, goes through.
 */
export function isTransactionConflict(e: unknown): boolean {
  const code = codeOf(e);
  return code === '40P01' || code === '40001';
}

/** Whether an error means PostgreSQL cannot take the request now (UNAVAILABLE_CODES): try it again later. */
export function isDatabaseUnavailable(e: unknown): boolean {
  const code = codeOf(e);
  return code !== undefined && UNAVAILABLE_CODES.has(code);
}
