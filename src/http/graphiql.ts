// Serves the locally built GraphiQL (vite.config.ts -> dist/graphiql): assets under /graphiql/,
// and the page itself at GET /graphql when a browser navigates there. No CDN is involved.
import { access, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import accepts from 'accepts';
import express from 'express';
import type { NextFunction, Request, Response, Router } from 'express';

export interface GraphiqlOptions {
  /**
   * headers pre-filled in the editor, e.g. a development API key; omit in production. Only a browser on
   * this machine that asks for this machine by name (`Host`) gets them: the server listens on every
   * interface by default, and the key is an admin's.
   */
  defaultHeaders?: Record<string, string> | undefined;
  /** folder of the built bundle @default <repo>/dist/graphiql */
  distDir?: string;
}

/** This file is src/http/graphiql.ts, so the repo root is two levels up. */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_DIST_DIR = path.join(repoRoot, 'dist', 'graphiql');

const CONFIG_PLACEHOLDER = '<!--longrun-config-->';
const MISSING_BUNDLE = 'GraphiQL is not built: run `npm run build:graphiql`.\n';

/** JSON that is safe inside an inline <script>: no `</script>`, `<!--` or line-separator surprises. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function injectConfig(html: string, config: { defaultHeaders?: Record<string, string> }): string {
  const script = `<script>window.LONGRUN = ${scriptSafeJson(config)};</script>`;
  if (html.includes(CONFIG_PLACEHOLDER)) return html.replace(CONFIG_PLACEHOLDER, () => script);
  if (html.includes('</head>')) return html.replace('</head>', () => `${script}</head>`);
  return script + html;
}

/** A `Host` value naming this machine: `localhost`, a 127.x.x.x or the [::1] address, any port. */
const LOOPBACK_HOST = /^(?:localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

/** Headers a reverse proxy adds to say whom it passes a request on for. */
const PROXY_HEADERS = ['forwarded', 'x-forwarded-for', 'x-forwarded-host', 'x-real-ip', 'via'];

/**
 * Whether a request comes from this machine (a loopback address, IPv4-mapped included) for this machine: its
 * `Host` names loopback too. A page of another site that points its name at 127.0.0.1 (DNS rebinding) makes
 * the browser send loopback requests with that site's name in `Host`, and may read the answers. A request a
 * reverse proxy on this machine passes on (nginx sends `Host: 127.0.0.1:<port>` by default) comes from a
 * browser elsewhere: one with a proxy's forwarding header is not local.
 */
const fromLoopback = (req: IncomingMessage): boolean => {
  const a = req.socket.remoteAddress ?? '';
  const local = a === '::1' || a.startsWith('127.') || a.startsWith('::ffff:127.');
  return local && LOOPBACK_HOST.test(req.headers.host ?? '') && !PROXY_HEADERS.some((h) => req.headers[h] !== undefined);
};

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
 * - `GET /graphiql/*`: the bundle's static files (hashed `assets/` cached for a year, the rest revalidated).
 * - `GET /graphql`: the GraphiQL page, with `window.LONGRUN = { defaultHeaders }` injected. The server's
 *   dispatcher sends only a browser's page request here (`isGraphiqlPageRequest`); GraphQL over HTTP goes
 *   to `graphql-http.ts` and never reaches this router.
 * - If the bundle is missing, those routes answer 503 text/plain telling to run `npm run build:graphiql`.
 */
export function graphiqlRouter(opts: GraphiqlOptions): Router {
  const distDir = path.resolve(opts.distDir ?? DEFAULT_DIST_DIR);
  const indexFile = path.join(distDir, 'index.html');
  const config = opts.defaultHeaders ? { defaultHeaders: { ...opts.defaultHeaders } } : {};

  // index.html is under 1 KB: read it on every page load, so a rebuild (new asset hashes)
  // or a first `npm run build:graphiql` is picked up without restarting the server.
  const loadPage = async (local: boolean): Promise<string> => injectConfig(await readFile(indexFile, 'utf8'), local ? config : {});

  const router = express.Router();

  // server.ts sends this router only the page requests (`isGraphiqlPageRequest`) at /graphql.
  router.get('/graphql', (req: Request, res: Response) => {
    loadPage(fromLoopback(req)).then(
      (html) => {
        res
          .status(200)
          .type('html')
          .set('Cache-Control', 'no-store')
          .set('Vary', 'Accept')
          .set('X-Content-Type-Options', 'nosniff')
          // Framed by another site, the page (with the development key, on loopback) could be clickjacked.
          .set('X-Frame-Options', 'DENY')
          .set('Content-Security-Policy', "frame-ancestors 'none'")
          .send(html);
      },
      () => {
        res.status(503).type('text/plain').set('Cache-Control', 'no-store').send(MISSING_BUNDLE);
      },
    );
  });

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
