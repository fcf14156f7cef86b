/**
 * One error shape for both transports: public errors keep their code and message; a lost database or NATS
 * connection is SERVICE_UNAVAILABLE; anything else is INTERNAL_SERVER_ERROR without internals (outside
 * development).
 */
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode, isDatabaseUnavailable, isPublicError, PublicError } from '../errors.js';
import type { ApolloServerPlugin } from '@apollo/server';
import type { Logger } from '../log.js';
import type { GraphQLContext } from './context.js';

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
 * internal error (a bug, or a failure nothing above classifies) is logged to `log` with its stack, unless
 * it is in `logged` (logged with its request by `logInternalErrors` already): the client is told only
 * "internal error" outside development, so the log is where an operator finds it.
 */
export function formatError(
  formatted: GraphQLFormattedError,
  error: unknown,
  o: { dev: boolean; schemaHidden?: boolean; log: Logger; logged?: WeakSet<object> },
): GraphQLFormattedError {
  const { dev, schemaHidden = false } = o;
  const message = schemaHidden ? formatted.message.replace(SUGGESTION, '') : formatted.message;
  const base = { message, ...(formatted.locations ? { locations: formatted.locations } : {}), ...(formatted.path ? { path: formatted.path } : {}) };
  const known = classified(formatted, error, base);
  if (known) return known;
  if (!o.logged?.has(error as object)) logInternal(o.log, error, formatted);
  return {
    ...base,
    message: dev ? formatted.message : 'internal error',
    extensions: { code: ErrorCode.INTERNAL_SERVER_ERROR },
  };
}

/** The error a GraphQLError wraps (a resolver's), or the error itself. */
const originalOf = (error: unknown): unknown => (error as { originalError?: unknown } | null)?.originalError ?? error;

/** Logs an internal error (its stack, the field's path) for the operator: the client was told only "internal error". */
const logInternal = (log: Logger, error: unknown, formatted: GraphQLFormattedError): void =>
  log.error({ err: originalOf(error), path: formatted.path }, 'internal error answered to a client');

/** `error` as a client gets it when something classifies it (public, a service down, graphql's own); else null: internal. */
function classified(formatted: GraphQLFormattedError, error: unknown, base: GraphQLFormattedError): GraphQLFormattedError | null {
  // Duck-typed: graphql may be loaded twice (its ESM and CJS builds), so `instanceof GraphQLError` can lie.
  const wrapped = (error as { originalError?: unknown } | null)?.originalError;
  const original = wrapped ?? error;
  if (isPublicError(original)) return { ...base, message: original.message, extensions: { ...original.extensions, code: original.code } };
  if (isBackingServiceDown(original)) return { ...base, message: UNAVAILABLE, extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } };
  const code = formatted.extensions?.code;
  if (typeof code === 'string' && GRAPHQL_CODES.has(code)) return { ...base, extensions: { ...formatted.extensions, code } };
  // A validation/coercion error of graphql-js (a bad variable wraps the scalar's own GraphQLError).
  const isGraphQLError = (e: unknown) => (e as { name?: string } | null)?.name === 'GraphQLError';
  if (isGraphQLError(error) && (!wrapped || isGraphQLError(wrapped))) return { ...base, extensions: { code: ErrorCode.BAD_USER_INPUT } };
  return null;
}

/**
 * Apollo's `formatError` has no request: this plugin logs a request's internal errors with the request's
 * logger (its `requestId`), as `formatError` would, so an operator finds the request a client reports, and
 * adds them to `logged`. Apollo formats some errors without a request's plugins (its context function or a
 * plugin hook throwing, a request while it stops): `formatError` logs those, without a request id.
 */
export function logInternalErrors(logged: WeakSet<object>): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          for (const e of errors) {
            const formatted = e.toJSON();
            if (classified(formatted, e, formatted)) continue;
            logInternal(contextValue.deps.log, e, formatted);
            logged.add(e);
          }
        },
      };
    },
  };
}
