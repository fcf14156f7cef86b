// Serves the locally built GraphiQL (vite.config.ts -> dist/graphiql): assets under /graphiql/ (the
// dashboard's too), and the page itself at GET /graphql when a browser navigates there. No CDN is involved.
import { access } from 'node:fs/promises';
import path from 'node:path';
import type { IncomingMessage } from 'node:http';
import accepts from 'accepts';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';
import { DIST_DIR, MISSING_BUNDLE, sendPage, type PageConfig } from './pages.js';

export interface GraphiqlOptions extends PageConfig {
  /** folder of the built bundle (index.html, assets/) @default <repo>/dist/graphiql */
  distDir?: string;
}

const DEFAULT_DIST_DIR = path.join(DIST_DIR, 'graphiql');

/**
 * A browser navigating to the GraphQL URL: a GET without a `query` parameter that prefers HTML to the
 * GraphQL media types. (Everything else at `/graphql` is GraphQL over HTTP.)
 */
export function isGraphiqlPageRequest(req: IncomingMessage): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  if (new URLSearchParams((req.url ?? '').split('?')[1] ?? '').has('query')) return false;
  return accepts(req).type(['application/json', 'application/graphql-response+json', 'text/html']) === 'text/html';
}

/**
 * GraphiQL for humans on the API's own port.
 *
 * - `GET /graphiql/*`: the bundle's static files (hashed `assets/`, the dashboard's included, cached for a
 *   year; the rest revalidated).
 * - `GET /graphql`: the GraphiQL page, with `window.LONGRUN = { defaultHeaders }` injected. The server's
 *   dispatcher sends only a browser's page request here (`isGraphiqlPageRequest`); GraphQL over HTTP goes
 *   to `graphql-http.ts` and never reaches this router.
 * - If the bundle is missing, those routes answer 503 text/plain telling to run `npm run build:graphiql`.
 */
export function graphiqlRouter(opts: GraphiqlOptions): Router {
  const distDir = path.resolve(opts.distDir ?? DEFAULT_DIST_DIR);
  const indexFile = path.join(distDir, 'index.html');
  const config = { defaultHeaders: opts.defaultHeaders };

  const router = express.Router();

  // server.ts sends this router only the page requests (`isGraphiqlPageRequest`) at /graphql.
  router.get('/graphql', (req: Request, res: Response) => sendPage(req, res, indexFile, config));

  const serveStatic = express.static(distDir, {
    index: false,
    fallthrough: true,
    setHeaders(res, filePath) {
      const rel = path.relative(distDir, filePath);
      if (rel.startsWith(`assets${path.sep}`)) res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
      else res.setHeader('Cache-Control', 'no-cache');
    },
  });

  router.use('/graphiql', (req: Request, res: Response, next: NextFunction) => {
    // `/graphiql`, `/graphiql/` and the raw index.html: the page lives at /graphql (with its config).
    if ((req.method === 'GET' || req.method === 'HEAD') && (req.path === '/' || req.path === '/index.html')) {
      res.redirect(302, '/graphql');
      return;
    }
    next();
  });
  router.use('/graphiql', serveStatic, (req: Request, res: Response, next: NextFunction) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    access(indexFile).then(
      () => {
        res.status(404).type('text/plain').send('Not found\n');
      },
      () => {
        res.status(503).type('text/plain').set('Cache-Control', 'no-store').send(MISSING_BUNDLE);
      },
    );
  });

  return router;
}
