/**
 * `longrun keys …`: create, revoke and list API keys in the configured database (DATABASE_URL).
 *
 *   keys create --owner NAME [--admin]   prints the new key alone on the last line of stdout
 *   keys revoke KEY_ID                   the key stops working at once (open subscriptions within seconds); the
 *                                        whole key is taken too
 *   keys list                            id, owner, admin, created, revoked (never the keys themselves)
 */
import { parseArgs } from 'node:util';
import { ConfigError, loadConfig } from '../config.js';
import { insertApiKey, listApiKeys, revokeApiKey } from '../db/api-keys.js';
import { createDb } from '../db/client.js';
import { ensureDatabase, migrateDatabase } from '../db/migrate.js';
import { generateKey, keyId, OWNER_PATTERN } from './keys.js';

const USAGE = `usage:
  longrun keys create --owner NAME [--admin]
  longrun keys revoke KEY_ID   (the hex after lr_, or the whole key)
  longrun keys list`;

export interface KeysCliIo {
  out(line: string): void;
  err(line: string): void;
}

const stdio: KeysCliIo = {
  out: (l) => void process.stdout.write(`${l}\n`),
  err: (l) => void process.stderr.write(`${l}\n`),
};

/**
 * Runs `keys <argv…>` and returns the exit code: 0 done, 1 failed (e.g. unknown key id), 2 bad usage.
 * @example await runKeysCommand(['create', '--owner', 'alice'])
 */
export async function runKeysCommand(argv: string[], io: KeysCliIo = stdio, env: Record<string, string | undefined> = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, tokens: true, options: { owner: { type: 'string' }, admin: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  } catch (e) {
    io.err(`longrun keys: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    (values.help ? io.out : io.err)(USAGE);
    return values.help ? 0 : 2;
  }
  const usageError = (msg: string) => {
    io.err(`longrun keys: ${msg}\n${USAGE}`);
    return 2;
  };
  // parseArgs keeps the last of two --owner: the key would be made for one of them without a word.
  const owners = parsed.tokens.filter((t) => t.kind === 'option' && t.name === 'owner').length;
  if (command === 'create' && (rest.length || !values.owner || owners > 1)) return usageError('create needs --owner NAME (once) and nothing else');
  if (command === 'create' && !OWNER_PATTERN.test(values.owner!)) {
    return usageError('an owner is 1-100 letters, digits and _ . @ - (starting with a letter or digit)');
  }
  if (command === 'revoke' && (rest.length !== 1 || values.owner || values.admin)) return usageError('revoke needs exactly one KEY_ID');
  if (command === 'list' && (rest.length || values.owner || values.admin)) return usageError('list takes no arguments');
  if (!['create', 'revoke', 'list'].includes(command)) return usageError(`unknown command ${JSON.stringify(command)}`);

  let url: string;
  try {
    url = loadConfig(env).DATABASE_URL;
  } catch (e) {
    io.err(`longrun keys: ${e instanceof ConfigError ? e.message : String(e)}`);
    return 1;
  }
  try {
    // Their errors say what failed: `cannot connect to PostgreSQL at …`, `migrating the database failed: …`.
    await ensureDatabase(url);
    await migrateDatabase(url);
  } catch (e) {
    io.err(`longrun keys: ${(e as Error).message}`);
    return 1;
  }
  const db = createDb(url, 1);
  try {
    if (command === 'create') {
      const k = generateKey();
      const admin = values.admin ?? false;
      await insertApiKey(db.sql, { id: k.id, owner: values.owner!, admin, keyHash: k.keyHash });
      io.out(`created key ${k.id} for owner ${values.owner}${admin ? ' (admin)' : ''}; it is shown once, store it now:`);
      io.out(k.key);
      return 0;
    }
    if (command === 'revoke') {
      // A whole key (`lr_<id>_<secret>`, a leaked one pasted as found) names its id: "no key with id" would
      // leave it working while saying it does not exist.
      const row = await revokeApiKey(db.sql, keyId(rest[0]!) ?? rest[0]!);
      if (!row) {
        io.err(`longrun keys: no key with id ${JSON.stringify(rest[0])}`);
        return 1;
      }
      io.out(`revoked key ${row.id} (owner ${row.owner}) at ${row.revokedAt!.toISOString()}`);
      return 0;
    }
    for (const k of await listApiKeys(db.sql)) {
      io.out([k.id, k.owner, k.admin ? 'admin' : '-', k.createdAt.toISOString(), k.revokedAt ? `revoked ${k.revokedAt.toISOString()}` : 'active'].join('\t'));
    }
    return 0;
  } catch (e) {
    io.err(`longrun keys: ${(e as Error).message}`);
    return 1;
  } finally {
    await db.close();
  }
}
