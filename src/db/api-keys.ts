/**
 * SQL for API keys. The key itself never reaches the database: only its id and SHA-256 (src/auth/keys.ts).
 */
import type { Sql } from './client.js';
import type { ApiKeyRow } from './schema.js';

const COLUMNS = `id, owner, admin, key_hash as "keyHash", created_at as "createdAt", revoked_at as "revokedAt"`;

export async function insertApiKey(sql: Sql, k: { id: string; owner: string; admin: boolean; keyHash: string }): Promise<ApiKeyRow> {
  const [row] = await sql.unsafe<ApiKeyRow[]>(
    `insert into api_keys (id, owner, admin, key_hash) values ($1, $2, $3, $4) returning ${COLUMNS}`,
    [k.id, k.owner, k.admin, k.keyHash],
  );
  return row!;
}

/** A key that is not revoked, by id; null for an unknown or revoked id. */
export async function getActiveApiKey(sql: Sql, id: string): Promise<ApiKeyRow | null> {
  const [row] = await sql.unsafe<ApiKeyRow[]>(`select ${COLUMNS} from api_keys where id = $1 and revoked_at is null`, [id]);
  return row ?? null;
}

/** Revokes a key; null when there is no such key. Revoking twice keeps the first time. */
export async function revokeApiKey(sql: Sql, id: string): Promise<ApiKeyRow | null> {
  const [row] = await sql.unsafe<ApiKeyRow[]>(
    `update api_keys set revoked_at = coalesce(revoked_at, now()) where id = $1 returning ${COLUMNS}`,
    [id],
  );
  return row ?? null;
}

export async function listApiKeys(sql: Sql): Promise<ApiKeyRow[]> {
  return sql.unsafe<ApiKeyRow[]>(`select ${COLUMNS} from api_keys order by created_at, id`);
}

/** Of the given ids, those that no longer authenticate (revoked or deleted). */
export async function inactiveApiKeys(sql: Sql, ids: readonly string[]): Promise<string[]> {
  if (ids.length === 0) return [];
  const active = await sql.unsafe<{ id: string }[]>(
    `select id from api_keys where id = any($1::text[]) and revoked_at is null`,
    [ids as never],
  );
  const alive = new Set(active.map((r) => r.id));
  return ids.filter((id) => !alive.has(id));
}
