/**
 * Who is calling: an `Authorization: Bearer <key>` value (HTTP header, or graphql-ws `connectionParams`) is
 * turned into a principal, looked up by the key's id and checked against its stored hash on every request,
 * so a revoked key stops working at once. With auth off, every caller is the admin owner `anonymous`.
 */
import type { Sql } from '../db/client.js';
import { getActiveApiKey, inactiveApiKeys } from '../db/api-keys.js';
import { ErrorCode, PublicError } from '../errors.js';
import type { Viewer } from '../jobs/deps.js';
import { bearerKey, keyId, keyMatches } from './keys.js';

/** An authenticated caller. */
export interface Principal {
  viewer: Viewer;
  /** The key used; per-key limits count on it. Null when auth is off (no per-key limits then). */
  keyId: string | null;
}

/** The caller of every request when `LONGRUN_AUTH=off`. */
export const ANONYMOUS: Principal = Object.freeze({ viewer: Object.freeze({ owner: 'anonymous', admin: true }), keyId: null });

export interface Authenticator {
  readonly enabled: boolean;
  /** The principal for an Authorization value; null when it is missing, malformed, unknown or revoked. */
  authenticate(authorization: unknown): Promise<Principal | null>;
  /** Of these key ids, those that no longer authenticate (revoked or deleted). */
  inactive(keyIds: readonly string[]): Promise<string[]>;
}

export function createAuthenticator(o: { sql: Sql; enabled: boolean }): Authenticator {
  return {
    enabled: o.enabled,
    async authenticate(authorization) {
      if (!o.enabled) return ANONYMOUS;
      const key = bearerKey(authorization);
      const id = key && keyId(key);
      if (!key || !id) return null;
      const row = await getActiveApiKey(o.sql, id);
      if (!row || !keyMatches(key, row.keyHash)) return null;
      return { viewer: { owner: row.owner, admin: row.admin }, keyId: row.id };
    },
    inactive: (ids) => (o.enabled ? inactiveApiKeys(o.sql, ids) : Promise.resolve([])),
  };
}

/** The error every unauthenticated request or operation answers. */
export const unauthenticated = (why = 'a valid API key is required: send `Authorization: Bearer <key>`'): PublicError =>
  new PublicError(ErrorCode.UNAUTHENTICATED, why);

/**
 * The Authorization value in graphql-ws `connectionParams`: the key `authorization` in any letter case
 * (GraphiQL sends its Headers tab as typed, e.g. `Authorization`).
 */
export function authorizationParam(params: Readonly<Record<string, unknown>> | undefined): unknown {
  if (!params) return undefined;
  for (const [k, v] of Object.entries(params)) if (k.toLowerCase() === 'authorization') return v;
  return undefined;
}
