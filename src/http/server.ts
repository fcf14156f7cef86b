/**
 * One HTTP port: GraphQL over HTTP (Apollo Server 5 on express 5) and over WebSocket (graphql-ws) at
 * `/graphql`, GraphiQL for browsers at the same URL, and the health probes and `GET /metrics`.
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocketServer } from 'ws';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { formatError } from '../graphql/errors.js';
import type { JobDeps, Viewer } from '../jobs/deps.js';
import type { UpdateHub } from '../progress/hub.js';
import { graphiqlRouter, type GraphiqlOptions } from './graphiql.js';
import { renderMetrics, scrapeRegistry, type ScrapeSources } from '../observability/scrape.js';

export interface HttpOptions {
  schema: GraphQLSchema;
  deps: JobDeps;
  hub: UpdateHub;
  port: number;
  host: string;
  dev: boolean;
  graphiql: GraphiqlOptions;
  /** Readiness beyond "the process answers": PostgreSQL, NATS and the streams reachable. */
  ready(): Promise<boolean>;
  /** Sources of the scrape-time gauges of `GET /metrics`. */
  metrics: Omit<ScrapeSources, 'ws'>;
}

/** How long /readyz waits for the checks before answering 503. */
const READY_TIMEOUT_MS = 2000;

/** `x-request-id` of the request (or a new one), echoed in the response and put in every log line of it. */
function requestIdOf(header: string | string[] | undefined): string {
  const given = Array.isArray(header) ? header[0] : header;
  return given && /^[\w.:-]{1,128}$/.test(given) ? given : randomUUID();
}

const headerOf = (h: string | string[] | undefined): string | null => (Array.isArray(h) ? h[0] : h) ?? null;

export interface HttpServer {
  url: string;
  wsUrl: string;
  server: http.Server;
  /** Starts failing /readyz (first step of a graceful shutdown). */
  setDraining(): void;
  /** Closes WebSocket subscriptions (close code 1001) and drains HTTP. */
  close(): Promise<void>;
}

const ANONYMOUS: Viewer = { owner: 'anonymous', admin: true };

export async function startHttpServer(o: HttpOptions): Promise<HttpServer> {
  const app = express();
  app.disable('x-powered-by');
  const server = http.createServer(app);
  let draining = false;

  const wsServer = new WebSocketServer({ server, path: '/graphql', maxPayload: 1024 * 1024 });
  const wsConnections = new Set<{ subscriptions: Record<string, unknown> }>();
  const ws = useServer<Record<string, unknown>, { requestId?: string; traceparent?: string | null }>(
    {
      schema: o.schema,
      connectionInitWaitTimeout: 10_000,
      onConnect: (ctx) => {
        wsConnections.add(ctx);
        ctx.extra.requestId = requestIdOf(ctx.extra.request.headers['x-request-id']);
        ctx.extra.traceparent = headerOf(ctx.extra.request.headers.traceparent);
      },
      onClose: (ctx) => void wsConnections.delete(ctx),
      context: (ctx): GraphQLContext =>
        createContext({ ...o.deps, log: o.deps.log.child({ requestId: ctx.extra.requestId }) }, o.hub, ANONYMOUS, {
          traceparent: ctx.extra.traceparent ?? null,
        }),
      onNext: (_ctx, _id, _payload, _args, result) =>
        result.errors
          ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e, o.dev)) }
          : undefined,
    },
    wsServer,
  );

  const apollo = new ApolloServer<GraphQLContext>({
    schema: o.schema,
    introspection: true,
    persistedQueries: false,
    includeStacktraceInErrorResponses: o.dev,
    formatError: (formatted, error) => formatError(formatted, error, o.dev),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ApolloServerPluginLandingPageDisabled(),
      { serverWillStart: async () => ({ drainServer: async () => ws.dispose() }) },
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  const metrics = scrapeRegistry({
    ...o.metrics,
    ws: () => ({
      connections: wsConnections.size,
      subscriptions: [...wsConnections].reduce((n, c) => n + Object.keys(c.subscriptions).length, 0),
    }),
  });
  app.get('/metrics', async (_req, res) => {
    const m = await renderMetrics(metrics);
    res.type(m.contentType).send(m.body);
  });
  app.get('/readyz', async (_req, res) => {
    const timeout = new Promise<boolean>((r) => setTimeout(() => r(false), READY_TIMEOUT_MS).unref());
    const ok = !draining && (await Promise.race([o.ready().catch(() => false), timeout]));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : draining ? 'draining' : 'unavailable' });
  });
  app.use(graphiqlRouter(o.graphiql));
  app.use(
    '/graphql',
    express.json({ limit: '2mb' }),
    expressMiddleware(apollo, {
      context: async ({ req, res }) => {
        const requestId = requestIdOf(req.headers['x-request-id']);
        res.setHeader('x-request-id', requestId);
        return createContext({ ...o.deps, log: o.deps.log.child({ requestId }) }, o.hub, ANONYMOUS, {
          traceparent: headerOf(req.headers.traceparent),
        });
      },
    }),
  );

  // Bodies express could not read (malformed JSON, too large) still get a GraphQL-shaped JSON answer.
  app.use((err: { status?: number; type?: string }, _req: express.Request, res: express.Response, next: express.NextFunction) => {
    if (res.headersSent) return next(err);
    const tooLarge = err.type === 'entity.too.large';
    const status = tooLarge ? 413 : err.status && err.status < 500 ? err.status : 500;
    const code = tooLarge ? 'PAYLOAD_TOO_LARGE' : status < 500 ? 'BAD_REQUEST' : 'INTERNAL_SERVER_ERROR';
    const message = tooLarge
      ? 'request body too large'
      : err.type === 'entity.parse.failed'
        ? 'malformed JSON in the request body'
        : status < 500
          ? 'bad request'
          : 'internal error';
    res.status(status).json({ errors: [{ message, extensions: { code } }] });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = o.host === '0.0.0.0' || o.host === '::' ? 'localhost' : o.host;
  return {
    url: `http://${host}:${port}/graphql`,
    wsUrl: `ws://${host}:${port}/graphql`,
    server,
    setDraining: () => void (draining = true),
    async close() {
      draining = true;
      for (const client of wsServer.clients) client.close(1001, 'server shutting down');
      await apollo.stop();
    },
  };
}
