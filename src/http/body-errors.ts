/**
 * Errors raised before GraphQL runs (body-parser: malformed JSON, oversize or badly encoded bodies) answered
 * in the GraphQL shape instead of express' HTML error page:
 * `{ "errors": [{ "message": …, "extensions": { "code": "BAD_REQUEST" } }] }`.
 */
import type { ErrorRequestHandler } from 'express';

const PAYLOAD_TOO_LARGE = 'PAYLOAD_TOO_LARGE';
const BAD_REQUEST = 'BAD_REQUEST';

/** What body-parser sets on its errors. */
interface BodyError {
  type?: string;
  status?: number;
  expose?: boolean;
  message?: string;
}

/** Express error handler for the /graphql route; mount it after the GraphQL middleware. */
export const graphqlBodyErrors: ErrorRequestHandler = (err: BodyError, req, res, next) => {
  if (res.headersSent) return next(err);
  const status = typeof err.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
  const code = status === 413 ? PAYLOAD_TOO_LARGE : status < 500 ? BAD_REQUEST : 'INTERNAL_SERVER_ERROR';
  const message =
    err.type === 'entity.parse.failed'
      ? 'the request body is not valid JSON'
      : status === 413
        ? 'the request body is too large'
        : status < 500 && err.expose && err.message
          ? err.message
          : 'the request could not be processed';
  const type = req.accepts(['application/graphql-response+json', 'application/json']) || 'application/json';
  res
    .status(status)
    .type(type === 'application/graphql-response+json' ? type : 'application/json')
    .send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
};
