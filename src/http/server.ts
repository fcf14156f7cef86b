/**
 * One HTTP port: GraphQL over HTTP (Apollo Server 5 on node:http) and over WebSocket (graphql-ws) at
 * `/graphql`, GraphiQL for browsers at the same URL, the operator dashboard at `/dashboard`, and the health
 * probes and `GET /metrics`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginCacheControlDisabled, ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import express from 'express';
import { GraphQLError, type GraphQLSchema } from 'graphql';
import type { WebSocketServer } from 'ws';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { formatError, logInternalErrors } from '../graphql/errors.js';
import { limitRules, parseOptions } from '../graphql/limits.js';
import { createSubmitRateLimiter, submitRatePlugin } from '../graphql/submit-rate.js';
import { ErrorCode, PublicError } from '../errors.js';
import { orAfter } from '../deadline.js';
import type { JobDeps } from '../jobs/deps.js';
import type { Logger } from '../log.js';
import type { UpdateHub } from '../progress/hub.js';
import { graphiqlRouter, isGraphiqlPageRequest, type GraphiqlOptions } from './graphiql.js';
import { graphqlOverHttp } from './graphql-http.js';
import { DASHBOARD_PAGE, sendPage } from './pages.js';
import type { SecurityOptions } from './security.js';
import { startGraphqlWs } from './ws.js';
import { scrapeRegistry, type ScrapeSources } from '../observability/scrape.js';
import { metricsHandler } from '../observability/metrics-endpoint.js';
import { headerOf } from './request-id.js';

export interface HttpOptions {
  schema: GraphQLSchema;
  deps: JobDeps;
  hub: UpdateHub;
  port: number;
  host: string;
  dev: boolean;
  graphiql: GraphiqlOptions;
  /** Authentication and limits (src/http/security.ts). */
  security: SecurityOptions;
  log: Logger;
  /** Readiness beyond "the process answers": PostgreSQL, NATS and the streams reachable. */
  ready(): Promise<boolean>;
  /** Sources of the scrape-time gauges of `GET /metrics`. */
  metrics: Omit<ScrapeSources, 'ws'>;
  /** METRICS_TOKEN: `GET /metrics` answers only `Authorization: Bearer <it>`; unset = open. */
  metricsToken: string | undefined;
}

/** Connections refused past HTTP_MAX_CONNECTIONS are logged at most once per this long. */
const DROP_LOG_MS = 10_000;

/** How long /readyz waits for the checks before answering 503. */
const READY_TIMEOUT_MS = 2000;

export interface HttpServer {
  url: string;
  wsUrl: string;
  server: http.Server;
  /** The graphql-ws sockets (for tests and metrics). */
  websockets: WebSocketServer;
  /** Starts failing /readyz (first step of a graceful shutdown). */
  setDraining(): void;
  /** Closes WebSocket subscriptions (close code 1001) and drains HTTP. */
  close(): Promise<void>;
}

export async function startHttpServer(o: HttpOptions): Promise<HttpServer> {
  const app = express();
  app.disable('x-powered-by');
  // GraphQL over HTTP goes straight to Apollo (`graphql`, below; the server listens once it is made); the
  // rest (the GraphiQL page, its assets, probes, /metrics) through express.
  const server = http.createServer((req, res) => {
    const path = req.url?.split('?', 1)[0];
    if ((path === '/graphql' || path === '/graphql/') && !isGraphiqlPageRequest(req)) graphql(req, res);
    else app(req, res);
  });
  let draining = false;

  const sec = o.security;
  if (sec.maxConnections > 0) {
    server.maxConnections = sec.maxConnections;
    // A flood is logged at most once per DROP_LOG_MS, with the connections refused since the last line.
    let dropped = 0;
    let quietUntil = 0;
    server.on('drop', () => {
      dropped++;
      if (Date.now() < quietUntil) return;
      quietUntil = Date.now() + DROP_LOG_MS;
      o.log.warn({ dropped, maxConnections: sec.maxConnections }, 'connections refused: HTTP_MAX_CONNECTIONS are open');
      dropped = 0;
    });
  }
  const submitRate = createSubmitRateLimiter(sec.submitRate);

  const loggedInternal = new WeakSet<object>();
  const apollo = new ApolloServer<GraphQLContext>({
    schema: o.schema,
    introspection: sec.query.introspection,
    validationRules: limitRules(sec.query),
    parseOptions: parseOptions(sec.query),
    // Both are Apollo's defaults; stated so that nobody turns them off by accident.
    csrfPrevention: true,
    allowBatchedHttpRequests: false,
    persistedQueries: false,
    includeStacktraceInErrorResponses: o.dev,
    // Signals are the entry point's (src/process.ts): Apollo's own handlers (on outside NODE_ENV=test) stop
    // it and send the signal again, which ended the process as a second signal before the hand-back.
    stopOnTerminationSignals: false,
    // Internal errors are logged by logInternalErrors, with the request's id (formatError has no request);
    // formatError logs those Apollo formats without the request's plugins.
    formatError: (formatted, error) =>
      formatError(formatted, error, { dev: o.dev, schemaHidden: !sec.query.introspection, log: o.log, logged: loggedInternal }),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ApolloServerPluginLandingPageDisabled(),
      // Apollo installs its cache-control plugin unless told not to: a hook around every resolved field, for
      // `@cacheControl` hints and a `cache-control` header this API has neither of (answers are per caller).
      ApolloServerPluginCacheControlDisabled(),
      { serverWillStart: async () => ({ drainServer: async () => ws.dispose() }) },
      submitRatePlugin(),
      logInternalErrors(loggedInternal),
      subscriptionsOverWsOnly,
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  const metrics = metricsHandler(scrapeRegistry({ ...o.metrics, ws: () => ws.stats() }), o.metricsToken, o.metrics.log);
  app.get('/metrics', (req, res) => metrics(req, res));
  app.get('/readyz', async (_req, res) => {
    const ok = !draining && (await orAfter(o.ready().catch(() => false), READY_TIMEOUT_MS, false));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : draining ? 'draining' : 'unavailable' });
  });
  app.use(graphiqlRouter(o.graphiql));
  // The operator dashboard, with GraphiQL's development key (given to a browser on this machine only).
  app.get('/dashboard', (req, res) => sendPage(req, res, DASHBOARD_PAGE, { defaultHeaders: o.graphiql.defaultHeaders }));
  const graphql = graphqlOverHttp({
    apollo,
    auth: sec.auth,
    bodyLimitBytes: sec.bodyLimitBytes,
    log: o.log,
    context: (req, principal, requestId) =>
      createContext({ ...o.deps, log: o.deps.log.child({ requestId }) }, o.hub, principal.viewer, {
        keyId: principal.keyId,
        traceparent: headerOf(req.headers.traceparent),
        submitRate,
      }),
  });

  await listen(server, o.port, o.host);
  // After the listen (in the same turn, so before any request): the WebSocketServer would be handed a failed
  // listen's error, with nothing listening for it.
  const ws = startGraphqlWs({ server, schema: o.schema, deps: o.deps, hub: o.hub, dev: o.dev, log: o.log, security: sec, submitRate });
  keepServingOnErrors(server, o.log);
  const { port } = server.address() as AddressInfo;
  // Every interface: this machine's name for itself.
  const host = o.host === '0.0.0.0' || o.host === '::' ? 'localhost' : inBrackets(o.host);
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    server,
    websockets: ws.wss,
    setDraining: () => void (draining = true),
    async close() {
      draining = true;
      for (const client of ws.wss.clients) client.close(1001, 'server shutting down');
      await apollo.stop();
    },
  };
}

/** An IPv6 address in brackets, as a URL or `host:port` writes it. */
const inBrackets = (host: string) => (host.includes(':') ? `[${host}]` : host);

/** Binds the port; a failure says which address could not be had (`cannot listen on 127.0.0.1:4000: …`). */
function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const failed = (e: NodeJS.ErrnoException) => {
      const why = e.code === 'EADDRINUSE' ? 'address already in use' : e.message;
      reject(new Error(`cannot listen on ${inBrackets(host)}:${port}: ${why} (set PORT or HOST)`, { cause: e }));
    };
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

/**
 * Once listening, an error of the server (an `accept` that fails: EMFILE, out of file descriptors) is logged
 * and the server goes on. `ws` hands the server's errors to its WebSocketServer, where nothing listens for
 * them (graphql-ws' use/ws closed every socket on the first, see ws-transport.ts), which would end the
 * process: that hand-over is taken off, and the error is ours alone.
 */
function keepServingOnErrors(server: http.Server, log: Logger): void {
  for (const l of server.listeners('error')) server.off('error', l as (e: Error) => void);
  server.on('error', (e) => log.error({ err: e }, 'HTTP server error; still serving'));
}

/**
 * A subscription sent over HTTP is refused (400 BAD_REQUEST, saying where subscriptions run): executed as a
 * query, its field would resolve with no event and fail as an internal error.
 */
const subscriptionsOverWsOnly = (() => {
  // One hooks object for every request: nothing allocated per request on the submit path.
  const hooks = {
    async didResolveOperation({ operation }: { operation?: { operation: string } | null }) {
      if (operation?.operation !== 'subscription') return;
      const e = new PublicError(
        ErrorCode.BAD_REQUEST,
        'subscriptions run over graphql-ws: open a WebSocket to this URL (ws:// or wss://) with the graphql-transport-ws subprotocol',
      );
      throw new GraphQLError(e.message, { originalError: e, extensions: { http: { status: 400 } } });
    },
  };
  return { requestDidStart: async () => hooks };
})();
