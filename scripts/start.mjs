#!/usr/bin/env node
/**
 * Starts a longrun entry point with everything it needs, using only Node built-ins (it runs before
 * `npm install`):
 *   1. `npm ci` when node_modules is missing or older than package-lock.json;
 *   2. `npm run build:graphiql` when a browser page (dist/graphiql/index.html, dist/dashboard/index.html) is
 *      missing or out of date: a file it was built from changed since (scripts/pages.mjs);
 *   3. PostgreSQL and NATS: the configured servers when reachable; otherwise, for a loopback address,
 *      private instances under .data/ (scripts/services.mjs);
 *   4. `node --import tsx <entry> [args...]`, forwarding SIGINT/SIGTERM/SIGHUP, exiting with its code
 *      (scripts/launch.mjs).
 *
 * Usage: node scripts/start.mjs <entry.ts> [args...]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDependencies } from './dependencies.mjs';
import { launch } from './launch.mjs';
import { pagesOutOfDate } from './pages.mjs';
import { ensureNats, ensurePostgres } from './services.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const say = (line) => console.log(`longrun: ${line}`);
function fail(line) {
  console.error(`longrun: ${line}`);
  process.exit(1);
}

function ensurePages() {
  const why = pagesOutOfDate(ROOT);
  if (why === undefined) return say('GraphiQL and dashboard bundle up to date');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (!pkg.scripts?.['build:graphiql']) return say('browser pages missing and no build:graphiql script yet: skipped');
  say(`${why}: running npm run build:graphiql`);
  const r = spawnSync('npm', ['run', 'build:graphiql'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`npm run build:graphiql failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

async function main() {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) fail('usage: node scripts/start.mjs <entry.ts> [args...]');
  if (!existsSync(entry)) fail(`entry ${entry} not found`);
  ensureDependencies(ROOT, say);
  ensurePages();
  const env = { ...process.env };
  await ensurePostgres(env);
  await ensureNats(env);
  launch(entry, args, env, say);
}

// Always run (tests import launch.mjs, not this): a main-module check by path fails through a symbolic link
// (argv[1] keeps it, import.meta.url resolves it), and started nothing.
await main();
