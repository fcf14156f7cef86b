/**
 * The security settings of the HTTP/WebSocket server, gathered from the config in one object
 * (the README's Security section has the table of limits, codes and defaults).
 */
import type { Authenticator } from '../auth/authenticate.js';
import type { Config } from '../config.js';
import type { QueryLimits } from '../graphql/limits.js';
import type { SubmitRate } from '../graphql/submit-rate.js';

export interface WsLimits {
  maxMessageBytes: number;
  connectionInitTimeoutMs: number;
  /** Unsent bytes a socket may hold before it is closed with 1013. */
  maxBufferedBytes: number;
  /** How often sockets are pinged; one that did not answer the last ping is dropped (0: never). */
  pingIntervalMs: number;
  maxConnectionsPerKey: number;
  maxSubscriptionsPerKey: number;
  /** Sockets kept open without a usable key; past it a socket is closed at its connection_init (4403). */
  maxRefusedSockets: number;
  /** Interval of the revoked-key re-check of open connections. */
  recheckMs: number;
}

export interface SecurityOptions {
  auth: Authenticator;
  query: QueryLimits;
  submitRate: SubmitRate;
  bodyLimitBytes: number;
  /** TCP connections open at once on the port; a further one is closed as it arrives (0: no cap). */
  maxConnections: number;
  ws: WsLimits;
}

export function securityOptions(config: Config, auth: Authenticator): SecurityOptions {
  return {
    auth,
    query: {
      maxDepth: config.GRAPHQL_MAX_DEPTH,
      maxCost: config.GRAPHQL_MAX_COST,
      maxAliases: config.GRAPHQL_MAX_ALIASES,
      maxTokens: config.GRAPHQL_MAX_TOKENS,
      introspection: config.GRAPHQL_INTROSPECTION ?? config.NODE_ENV !== 'production',
    },
    submitRate: { perSecond: config.SUBMIT_RATE_PER_SEC, burst: config.SUBMIT_BURST },
    bodyLimitBytes: config.HTTP_BODY_LIMIT_BYTES,
    maxConnections: config.HTTP_MAX_CONNECTIONS,
    ws: {
      maxMessageBytes: config.WS_MAX_MESSAGE_BYTES,
      connectionInitTimeoutMs: config.WS_CONNECTION_INIT_TIMEOUT_MS,
      maxBufferedBytes: config.WS_MAX_BUFFERED_BYTES,
      pingIntervalMs: config.WS_PING_INTERVAL_MS,
      maxConnectionsPerKey: config.MAX_CONNECTIONS_PER_KEY,
      maxSubscriptionsPerKey: config.MAX_SUBSCRIPTIONS_PER_KEY,
      maxRefusedSockets: config.WS_MAX_REFUSED_SOCKETS,
      recheckMs: config.AUTH_RECHECK_MS,
    },
  };
}
