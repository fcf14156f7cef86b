/**
 * `npm run keys -- create --owner NAME [--admin]` | `revoke KEY_ID` | `list`: a standalone entry for
 * src/auth/keys-cli.ts until `longrun keys …` is wired to it.
 */
import { runKeysCommand } from '../src/auth/keys-cli.js';

process.exitCode = await runKeysCommand(process.argv.slice(2));
