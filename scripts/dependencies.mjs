/**
 * `npm ci` when node_modules is missing or does not hold what package-lock.json names, then the mends of
 * scripts/patch-dependencies.mjs (also npm's postinstall; here for an install made with --ignore-scripts).
 * Dependency-free (it runs before the install); shared by scripts/start.mjs (`npm start`) and
 * scripts/test.mjs (`npm test`).
 */
import { spawnSync } from 'node:child_process';
import { lstatSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { patchDependencies } from './patch-dependencies.mjs';

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/**
 * Whether node_modules holds every package package-lock.json names, at its version (npm's record of the
 * install, node_modules/.package-lock.json; optional packages, such as other platforms' binaries, may be
 * absent). A checkout or a new work tree makes the lockfile newer without changing what it names.
 */
function installedAsLocked(root) {
  try {
    const wanted = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')).packages;
    const have = JSON.parse(readFileSync(join(root, 'node_modules/.package-lock.json'), 'utf8')).packages;
    return Object.entries(wanted).every(([at, p]) => at === '' || p.optional || have[at]?.version === p.version);
  } catch {
    return false;
  }
}

/** @param {string} root the repository root @param {(line: string) => void} say */
export function ensureDependencies(root, say) {
  // npm writes node_modules/.package-lock.json right after package-lock.json on every install.
  const installed = mtime(join(root, 'node_modules/.package-lock.json')) ?? mtime(join(root, 'node_modules'));
  const lock = mtime(join(root, 'package-lock.json'));
  if (installed !== undefined && (lock === undefined || installed >= lock || installedAsLocked(root))) {
    say('dependencies up to date');
    return patchDependencies(root, say);
  }
  if (installed !== undefined && lstatSync(join(root, 'node_modules')).isSymbolicLink()) {
    // npm ci would replace the link and empty what it points to: another checkout's install.
    const target = realpathSync(join(root, 'node_modules'));
    console.error(`longrun: node_modules links to ${target}, whose packages differ from package-lock.json; install there (npm ci) or replace the link`);
    process.exit(1);
  }
  say(installed === undefined ? 'node_modules is missing: running npm ci' : 'package-lock.json changed: running npm ci');
  const r = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`longrun: npm ci failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
    process.exit(1);
  }
  patchDependencies(root, say); // done by npm's postinstall already, unless scripts are off (ignore-scripts)
}
