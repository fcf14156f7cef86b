#!/usr/bin/env node
/**
 * Starts a longrun entry point with everything it needs, using only Node built-ins (it runs before
 * `npm install`):
 *   1. `npm ci` when node_modules is missing or older than package-lock.json;
 *   2. `npm run build:graphiql` when dist/graphiql/index.html is missing;
 *   3. PostgreSQL and NATS: the configured servers when reachable; otherwise, for a loopback address,
 *      private instances under .data/ (scripts/services.mjs);
 *   4. `node --import tsx <entry> [args...]`, forwarding SIGINT/SIGTERM/SIGHUP, exiting with its code.
 *
 * Usage: node scripts/start.mjs <entry.ts> [args...]
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDependencies } from './dependencies.mjs';
import { ensureNats, ensurePostgres } from './services.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const say = (line) => console.log(`longrun: ${line}`);
function fail(line) {
  console.error(`longrun: ${line}`);
  process.exit(1);
}

function ensureGraphiql() {
  if (existsSync(join(ROOT, 'dist/graphiql/index.html'))) return say('GraphiQL bundle present');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  if (!pkg.scripts?.['build:graphiql']) return say('GraphiQL bundle missing and no build:graphiql script yet: skipped');
  say('GraphiQL bundle missing: running npm run build:graphiql');
  const r = spawnSync('npm', ['run', 'build:graphiql'], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) fail(`npm run build:graphiql failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`})`);
}

function run(entry, args, env) {
  say(`starting ${entry}`);
  // Own process group: a terminal Ctrl-C reaches only us (and npm, which forwards it to us too),
  // so the app sees each signal once, from us.
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(entry), ...args], {
    cwd: ROOT,
    env,
    stdio: 'inherit',
    detached: true,
  });
  let last = { signal: '', at: 0 };
  const forward = (signal) => {
    const now = Date.now();
    if (signal === last.signal && now - last.at < 300) return; // the same Ctrl-C via the tty and via npm
    if (last.at) say(`${signal} again: forwarded (the app decides whether to force its exit)`);
    else say(`${signal}: forwarded; waiting for the app to shut down (send it again to force)`);
    last = { signal, at: now };
    child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.once('error', (e) => fail(`cannot start ${entry}: ${e.message}`));
  child.once('exit', (code, signal) => {
    if (signal) {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(s);
      process.kill(process.pid, signal); // die the same way, so callers see the signal
      setTimeout(() => process.exit(1), 1000).unref();
    } else {
      process.exit(code ?? 1);
    }
  });
}

async function main() {
  const [entry, ...args] = process.argv.slice(2);
  if (!entry) fail('usage: node scripts/start.mjs <entry.ts> [args...]');
  if (!existsSync(entry)) fail(`entry ${entry} not found`);
  ensureDependencies(ROOT, say);
  ensureGraphiql();
  const env = { ...process.env };
  await ensurePostgres(env);
  await ensureNats(env);
  run(entry, args, env);
}

await main();
