/**
 * API key format: `lr_<id>_<secret>`, `id` 16 hex digits (the row's primary key, so a key is looked up by
 * id), `secret` 32 random bytes in base64url. Only the SHA-256 of the whole key is stored; a presented key is
 * hashed and compared with the stored hash in constant time.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const KEY_PATTERN = /^lr_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

/** Owner names: what `keys create --owner` accepts. */
export const OWNER_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,99}$/;

export interface NewKey {
  id: string;
  /** The key to give to the client; shown once, never stored. */
  key: string;
  keyHash: string;
}

export const hashKey = (key: string): string => createHash('sha256').update(key).digest('hex');

/** A fresh random key with its id and hash. */
export function generateKey(): NewKey {
  const id = randomBytes(8).toString('hex');
  const key = `lr_${id}_${randomBytes(32).toString('base64url')}`;
  return { id, key, keyHash: hashKey(key) };
}

/** The id inside a well-formed key, or null. */
export function keyId(key: string): string | null {
  return KEY_PATTERN.exec(key)?.[1] ?? null;
}

/** Whether `key` hashes to `storedHash` (constant time in the hash). */
export function keyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The key in an `Authorization: Bearer <key>` value (scheme case-insensitive), or null. */
export function bearerKey(header: unknown): string | null {
  if (typeof header !== 'string') return null;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(header);
  return m ? m[1]! : null;
}
