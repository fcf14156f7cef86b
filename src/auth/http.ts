/**
 * Authentication of GraphQL requests over HTTP: `Authorization: Bearer <key>`, checked before the body is
 * read. A missing, bad or revoked key answers 401 with a GraphQL error body (`UNAUTHENTICATED`).
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { ErrorCode, isConnectionError } from '../errors.js';
import { unauthenticated, type Authenticator, type Principal } from './authenticate.js';

/** The principal `requireKey` stored for the rest of the request. */
export const principalOf = (res: Response): Principal => res.locals['principal'] as Principal;

export function requireKey(auth: Authenticator): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    auth.authenticate(req.headers.authorization).then(
      (principal) => {
        if (!principal) {
          const e = unauthenticated();
          res.status(401).set('WWW-Authenticate', 'Bearer').json({ errors: [{ message: e.message, extensions: { code: e.code } }] });
          return;
        }
        res.locals['principal'] = principal;
        next();
      },
      (e: unknown) => {
        if (!isConnectionError(e)) return next(e);
        res.status(503).json({ errors: [{ message: 'a backing service is unavailable, try again', extensions: { code: ErrorCode.SERVICE_UNAVAILABLE } }] });
      },
    );
  };
}
