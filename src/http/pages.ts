// The browser pages the API serves from the Vite build (vite.config.ts -> dist/<page>/index.html): GraphiQL at
// GET /graphql and the dashboard at GET /dashboard. Both get the same headers and the same config script,
// whose development key goes only to a browser on this machine.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { IncomingMessage } from 'node:http';
import type { Request, Response } from 'express';

/** What the server writes into a page as `window.LONGRUN`. */
export interface PageConfig {
  /**
   * headers pre-filled in the page, e.g. a development API key; omit in production. Only a browser on this
   * machine that asks for this machine by name (`Host`) gets them: the server listens on every interface by
   * default, and the key is an admin's.
   */
  defaultHeaders?: Record<string, string> | undefined;
}

/** This file is src/http/pages.ts, so the repo root is two levels up. */
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
/** The Vite build's output folder. */
export const DIST_DIR = path.join(repoRoot, 'dist');

/** The dashboard's page (src/dashboard), served at GET /dashboard; its assets are GraphiQL's, under /graphiql/assets/. */
export const DASHBOARD_PAGE = path.join(DIST_DIR, 'dashboard', 'index.html');

/** Said (503, text/plain) for a page or asset whose bundle is missing. */
export const MISSING_BUNDLE = 'The browser pages are not built: run `npm run build:graphiql`.\n';

const CONFIG_PLACEHOLDER = '<!--longrun-config-->';

/** JSON that is safe inside an inline <script>: no `</script>`, `<!--` or line-separator surprises. */
function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

function injectConfig(html: string, config: PageConfig): string {
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
 * Answers a page: `indexFile` with `window.LONGRUN = config` injected (`{}` unless the request is local, see
 * `fromLoopback`), or 503 when the bundle is missing. The html is under 1 KB: read on every load, so a
 * rebuild (new asset hashes) or a first build is picked up without restarting the server.
 */
export function sendPage(req: Request, res: Response, indexFile: string, config: PageConfig): void {
  const pageConfig = config.defaultHeaders && fromLoopback(req) ? { defaultHeaders: { ...config.defaultHeaders } } : {};
  readFile(indexFile, 'utf8').then(
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
        .send(injectConfig(html, pageConfig));
    },
    () => {
      res.status(503).type('text/plain').set('Cache-Control', 'no-store').send(MISSING_BUNDLE);
    },
  );
}
