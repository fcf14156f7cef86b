/**
 * `npm ci` when node_modules is missing or older than package-lock.json. Dependency-free (it runs before the
 * install); shared by scripts/start.mjs (`npm start`) and scripts/test.mjs (`npm test`).
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** @param {string} root the repository root @param {(line: string) => void} say */
export function ensureDependencies(root, say) {
  // npm writes node_modules/.package-lock.json right after package-lock.json on every install.
  const installed = mtime(join(root, 'node_modules/.package-lock.json')) ?? mtime(join(root, 'node_modules'));
  const lock = mtime(join(root, 'package-lock.json'));
  if (installed !== undefined && (lock === undefined || installed >= lock)) return say('dependencies up to date');
  say(installed === undefined ? 'node_modules is missing: running npm ci' : 'package-lock.json changed: running npm ci');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`longrun: npm ci failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    process.exit(1);
  }
}
