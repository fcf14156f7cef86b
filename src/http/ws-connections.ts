/**
 * The connections of GraphQL over WebSocket (ws.ts) and who may keep one open: each connection's state, the
 * check of its key (at connection_init, and again by an operation after a failed check), its slot on the key
 * (`maxConnectionsPerKey`), the watch for the key's revocation, and the cap on open connections let in without
 * a usable key (`maxRefusedSockets`).
 */
import type { Context } from 'graphql-ws';
import { authorizationParam, unauthenticated, type Principal } from '../auth/authenticate.js';
import type { RevocationWatch } from '../auth/revocation.js';
import { ErrorCode, PublicError } from '../errors.js';
import { unavailableError } from '../graphql/errors.js';
import type { JobDeps } from '../jobs/deps.js';
import { KeyCounts } from './key-counts.js';
import type { SecurityOptions } from './security.js';

/**
 * One connection's state, from graphql-ws' `onConnect` until `onClose`: where its requests come from and
 * what it may do.
 */
export interface Connection {
  /** The upgrade request's W3C `traceparent`, continued by `submitJob`. */
  traceparent: string | null;
  /** The job deps of its operations: the logger carries the upgrade request's id. */
  deps: JobDeps;
  /** Who it is; null until its key is checked, and when it has no valid key. */
  principal: Principal | null;
  /** Why operations are refused (no key, revoked key, too many connections, a failed check), if they are. */
  refusal: PublicError | null;
  /**
   * Its next operation checks the key again: the last check failed (rather than refusing the key), or found
   * no free connection slot on it.
   */
  recheck: boolean;
  /** The check running, awaited by every operation that needs it (so the connection is counted once). */
  checking: Promise<boolean> | null;
  /** The key its connection and subscriptions are counted on. */
  countedKey: string | null;
  /** Aborted when the key is revoked: ends the socket's subscriptions. */
  revoked: AbortController;
  /** Ids of its subscriptions counted on `countedKey`. */
  subscriptions: Set<string>;
  unwatch(): void;
}

export interface Admission {
  /** Checks an open connection's key (`check` below); false: the socket is to be closed, or closed already. */
  check(ctx: Context, s: Connection): Promise<boolean>;
  /** Gives back the connection's slot and subscription counts on its key (again: no-op). */
  release(s: Connection): void;
}

/**
 * The admission of the connections in `connected` (every open connection by its graphql-ws context, kept by
 * ws.ts from onConnect until onClose); `subscriptions`: the running subscriptions per key, given back here
 * with the connection's slot.
 */
export function connectionAdmission(
  sec: SecurityOptions,
  revocations: RevocationWatch,
  connected: ReadonlyMap<Context, Connection>,
  subscriptions: KeyCounts,
): Admission {
  const connections = new KeyCounts();
  /** Open connections let in without a usable key (no key, a bad one, no free connection slot on it). */
  const refused = new Set<Connection>();

  /** Checks the connection's key and counts the connection on it; sets what the connection may do. */
  const admit = async (s: Connection, connectionParams: Context['connectionParams']): Promise<void> => {
    try {
      s.principal = await sec.auth.authenticate(authorizationParam(connectionParams));
    } catch (e) {
      // Classified by formatError as over HTTP (graphql-http.ts): a backing service down is
      // SERVICE_UNAVAILABLE, anything else a bug (INTERNAL_SERVER_ERROR). Each operation answers with it
      // until one finds the check passing.
      const down = unavailableError(e);
      if (down) {
        s.deps.log.warn({ err: e }, 'GraphQL over WebSocket: cannot authenticate, a backing service is unavailable');
        s.refusal = down;
      } else {
        s.deps.log.error({ err: e }, 'GraphQL over WebSocket: authentication failed');
        s.refusal = new PublicError(ErrorCode.INTERNAL_SERVER_ERROR, 'internal error');
      }
      s.recheck = true;
      return;
    }
    s.recheck = false;
    s.refusal = null;
    const key = s.principal?.keyId ?? null;
    if (!s.principal) s.refusal = unauthenticated();
    else if (key !== null && !connections.tryAdd(key, sec.ws.maxConnectionsPerKey)) {
      s.refusal = new PublicError(ErrorCode.TOO_MANY_CONNECTIONS, `this API key has ${sec.ws.maxConnectionsPerKey} WebSocket connections open already`, {
        extensions: { limit: sec.ws.maxConnectionsPerKey },
      });
      s.recheck = true; // a slot may be free by its next operation
    } else if (key !== null) {
      s.countedKey = key;
      s.unwatch = revocations.watch(key, () => {
        s.principal = null;
        s.refusal = unauthenticated('the API key was revoked');
        s.revoked.abort(s.refusal);
      });
    }
    if (!s.refusal) refused.delete(s); // let in on a later check: no longer refused
  };

  /**
   * Checks the key of an open connection: at connection_init, and again on an operation after a failed
   * check. One check at a time: operations arriving meanwhile wait for it. False when the socket closed
   * meanwhile (its slot, if the check took one, is given back at once), or when it is turned away
   * (`mayStay`): a check that failed at connection_init (a backing service down) let it in uncounted, and it
   * counts from the check that finds it refused.
   */
  const check = (ctx: Context, s: Connection): Promise<boolean> =>
    (s.checking ??= admit(s, ctx.connectionParams).then(() => {
      s.checking = null;
      if (connected.get(ctx) !== s) {
        release(s);
        return false;
      }
      return mayStay(s);
    }));

  /**
   * Whether a checked connection may stay open: one without a usable key is counted among the refused (at
   * most maxRefusedSockets), and turned away (false) when they are at their limit. A key that could not be
   * checked is not a refusal, and a revoked key's connections were let in with a usable one.
   */
  const mayStay = (s: Connection): boolean => {
    if (!s.refusal || refused.has(s) || s.refusal.code === ErrorCode.SERVICE_UNAVAILABLE || s.refusal.code === ErrorCode.INTERNAL_SERVER_ERROR) return true;
    if (refused.size >= sec.ws.maxRefusedSockets) return false;
    refused.add(s);
    return true;
  };

  /** Gives back the connection's slot and subscription counts on its key (again: no-op). */
  const release = (s: Connection) => {
    refused.delete(s);
    s.unwatch();
    if (s.countedKey === null) return;
    for (const _ of s.subscriptions) subscriptions.remove(s.countedKey);
    s.subscriptions.clear();
    connections.remove(s.countedKey);
    s.countedKey = null;
  };

  return { check, release };
}
