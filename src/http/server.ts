/**
 * One HTTP port: GraphQL over HTTP (Apollo Server 5 on express 5) and over WebSocket (graphql-ws) at
 * `/graphql`, GraphiQL for browsers at the same URL, and the health probes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApolloServer } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import { ApolloServerPluginLandingPageDisabled } from '@apollo/server/plugin/disabled';
import { expressMiddleware } from '@as-integrations/express5';
import express from 'express';
import type { GraphQLSchema } from 'graphql';
import type { WebSocketServer } from 'ws';
import { principalOf, requireKey } from '../auth/http.js';
import { createContext, type GraphQLContext } from '../graphql/context.js';
import { formatError } from '../graphql/errors.js';
import { limitRules, parseOptions } from '../graphql/limits.js';
import { createSubmitRateLimiter, submitRatePlugin } from '../graphql/submit-rate.js';
import type { JobDeps } from '../jobs/deps.js';
import type { Logger } from '../log.js';
import type { UpdateHub } from '../progress/hub.js';
import { bodyErrors, jsonBody } from './body.js';
import { graphiqlRouter, type GraphiqlOptions } from './graphiql.js';
import type { SecurityOptions } from './security.js';
import { startGraphqlWs } from './ws.js';

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
}

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
  const server = http.createServer(app);
  let draining = false;

  const sec = o.security;
  const submitRate = createSubmitRateLimiter(sec.submitRate);
  const ws = startGraphqlWs({ server, schema: o.schema, deps: o.deps, hub: o.hub, dev: o.dev, log: o.log, security: sec, submitRate });

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
    formatError: (formatted, error) => formatError(formatted, error, o.dev),
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer: server }),
      ApolloServerPluginLandingPageDisabled(),
      { serverWillStart: async () => ({ drainServer: async () => ws.dispose() }) },
      submitRatePlugin(submitRate),
    ],
  });
  await apollo.start();

  app.get('/healthz', (_req, res) => void res.json({ status: 'ok' }));
  app.get('/readyz', async (_req, res) => {
    const ok = !draining && (await o.ready().catch(() => false));
    res.status(ok ? 200 : 503).json({ status: ok ? 'ready' : draining ? 'draining' : 'unavailable' });
  });
  app.use(graphiqlRouter(o.graphiql));
  app.use(
    '/graphql',
    requireKey(sec.auth),
    ...jsonBody(sec.bodyLimitBytes),
    expressMiddleware(apollo, {
      context: async ({ res }) => {
        const p = principalOf(res);
        return createContext(o.deps, o.hub, p.viewer, p.keyId);
      },
    }),
    bodyErrors,
  );

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
    websockets: ws.wss,
    setDraining: () => void (draining = true),
    async close() {
      draining = true;
      for (const client of ws.wss.clients) client.close(1001, 'server shutting down');
      await apollo.stop();
    },
  };
}
