/**
 * The development key: `npm start` in development makes one admin key (owner `dev`) the first time, keeps it
 * in `.data/dev-key` (git-ignored) and pre-fills it in GraphiQL, so a newcomer's first subscription works
 * with no typing. A stored key that no longer authenticates (another database, revoked) is replaced.
 */
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Sql } from '../db/client.js';
import { getActiveApiKey, insertApiKey } from '../db/api-keys.js';
import { generateKey, keyId, keyMatches } from './keys.js';

export const DEV_KEY_FILE = fileURLToPath(new URL('../../.data/dev-key', import.meta.url));
export const DEV_KEY_OWNER = 'dev';

export async function ensureDevKey(sql: Sql, file = DEV_KEY_FILE): Promise<{ key: string; created: boolean }> {
  const stored = (await readFile(file, 'utf8').catch(() => '')).trim();
  const id = keyId(stored);
  const row = id ? await getActiveApiKey(sql, id) : null;
  if (row && keyMatches(stored, row.keyHash)) return { key: stored, created: false };
  const k = generateKey();
  await insertApiKey(sql, { id: k.id, owner: DEV_KEY_OWNER, admin: true, keyHash: k.keyHash });
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(file, `${k.key}\n`, { mode: 0o600 });
  await chmod(file, 0o600); // `mode` applies only to a file created now: not to one replaced (left readable by others)
  return { key: k.key, created: true };
}
