/**
 * One error shape for both transports: public errors keep their code and message; a lost database or NATS
 * connection is SERVICE_UNAVAILABLE; anything else is INTERNAL_SERVER_ERROR without internals (outside
 * development).
 */
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, isDatabaseUnavailable, isPublicError, PublicError } from '../errors.js';
import type { Logger } from '../log.js';

const GRAPHQL_CODES = new Set([
  'GRAPHQL_PARSE_FAILED',
  'GRAPHQL_VALIDATION_FAILED',
  'BAD_USER_INPUT',
  'BAD_REQUEST',
  'PERSISTED_QUERY_NOT_FOUND',
  'PERSISTED_QUERY_NOT_SUPPORTED',
  'OPERATION_RESOLUTION_FAILURE',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'RATE_LIMITED',
  'NOT_FOUND',
]);

const isNatsUnavailable = (e: unknown): boolean =>
  e instanceof Error && /^(ConnectionError|ClosedConnectionError|TimeoutError|NoRespondersError|RequestError)$/.test(e.name);

const UNAVAILABLE = 'a backing service is unavailable, try again';
const isBackingServiceDown = (e: unknown): boolean => isDatabaseUnavailable(e) || isNatsUnavailable(e);

/**
 * The SERVICE_UNAVAILABLE error a client gets for `error` when it means a backing service is down (as
 * `formatError` answers it), else null: what the transports answer when an API key cannot be checked.
 */
export function unavailableError(error: unknown): PublicError | null {
  if (isPublicError(error)) return error.code === ErrorCode.SERVICE_UNAVAILABLE ? error : null;
  return isBackingServiceDown(error) ? new PublicError(ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE) : null;
}

/**
 * graphql-js' "Did you mean …?" in a validation or coercion message: it names fields, arguments, types or
 * enum values near the one asked for, so it tells a client without introspection the schema piece by piece.
 */
const SUGGESTION = / ?Did you mean .+\?$/;

/**
 * What a client gets for an error, on both transports. `schemaHidden` (introspection off): graphql-js'
 * suggestions of names are left out of validation and coercion messages, as the schema is not public. An
 * internal error (a bug, or a failure nothing above classifies) is logged to `log` with its stack: the
 * client is told only "internal error" outside development, so the log is where an operator finds it.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  o: { dev: boolean; schemaHidden?: boolean; log: Logger },
): GraphQLFormattedError {
  const { dev, schemaHidden = false } = o;
  // Duck-typed: graphql may be loaded twice (its ESM and CJS builds), so `instanceof GraphQLError` can lie.
  const wrapped = (error as { originalError?: unknown } | null)?.originalError;
  const original = wrapped ?? error;
  const message = schemaHidden ? formatted.message.replace(SUGGESTION, '') : formatted.message;
  const base = { message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
  if (isPublicError(original)) return { ...base, message: original.message, extensions: { ...original.extensions, code: original.code } };
  if (isBackingServiceDown(original)) return { ...base, message: UNAVAILABLE, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } };
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && GRAPHQL_CODES.has(code)) return { ...base, extensions: { ...formatted.extensions, code } };
  // A validation/coercion error of graphql-js (a bad variable wraps the scalar's own GraphQLError).
  const isGraphQLError = (e: unknown) => (e as { name?: string } | null)?.name === 'GraphQLError';
  if (isGraphQLError(error) && (!wrapped || isGraphQLError(wrapped))) {
    return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  }
  o.log.error({ err: original, path: formatted.path }, 'internal error answered to a client');
  return {
    ...base,
    message: dev ? formatted.message : 'internal error',
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}
