/**
 * Reading GraphQL request bodies: JSON up to a size limit, and a GraphQL-shaped JSON answer for every body
 * that cannot be read (too large: 413 PAYLOAD_TOO_LARGE; malformed: 400 BAD_REQUEST), never express' HTML
 * error page.
 */
import express from 'express';
import type { ErrorRequestHandler, NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCode } from '../errors.js';

/** JSON bodies up to `limitBytes`; a request without a JSON body reaches Apollo with `body` undefined (Apollo answers 400). */
export function jsonBody(limitBytes: number): RequestHandler[] {
  return [
    express.json({ limit: limitBytes }),
    (req: Request, _res: Response, next: NextFunction) => {
      if (!('body' in req)) (req as { body?: unknown }).body = undefined;
      next();
    },
  ];
}

/** Turns body-parser errors (and any other error of these routes) into a GraphQL error response. */
export const bodyErrors: ErrorRequestHandler = (err: { status?: number; type?: string }, req, res, next) => {
  if (res.headersSent) return next(err);
  const tooLarge = err.type === 'entity.too.large';
  const status = tooLarge ? 413 : err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
  const code = tooLarge ? ErrorCode.PAYLOAD_TOO_LARGE : status < 500 ? ErrorCode.BAD_REQUEST : ErrorCode.INTERNAL_SERVER_ERROR;
  const message = tooLarge
    ? 'request body too large'
    : err.type === 'entity.parse.failed'
      ? 'malformed JSON in the request body'
      : status < 500
        ? 'bad request'
        : 'internal error';
  // The media type the client asked for (GraphQL over HTTP), else application/json.
  const type = req.accepts(['application/json', 'application/graphql-response+json']) || 'application/json';
  res.status(status).type(type).send(JSON.stringify({ errors: [{ message, extensions: { code } }] }));
};
