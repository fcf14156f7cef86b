#!/usr/bin/env node
/**
 * `npm test`: the whole suite in two phases, so the slow fault tests (test/faults/: they kill and restart
 * processes and services under load) run one file at a time after everything else instead of competing with
 * it for the two cores. Each phase writes its JSON report to test-artifacts/vitest-<phase>.json (read by
 * scripts/ci-summary.mjs). Extra arguments are passed to vitest; with file filters the suite runs once.
 * PostgreSQL and NATS: TEST_DATABASE_ADMIN_URL (default postgres://postgres@127.0.0.1:5432/postgres) and
 * TEST_NATS_URL (default nats://127.0.0.1:4222) when reachable; otherwise private instances under .data/, as
 * `npm start` does (scripts/services.mjs), whose addresses the tests get in those two variables.
 * Exits non-zero if either phase failed.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureDependencies } from './dependencies.mjs';
import { ensureNats, ensurePostgres } from './services.mjs';

// A fresh clone has no node_modules yet: install the locked versions first (as `npm start` does).
ensureDependencies(resolve(dirname(fileURLToPath(import.meta.url)), '..'), (line) => console.log(`longrun: ${line}`));

const services = {
  DATABASE_URL: process.env.TEST_DATABASE_ADMIN_URL || 'postgres://postgres@127.0.0.1:5432/postgres',
  NATS_URL: process.env.TEST_NATS_URL || 'nats://127.0.0.1:4222',
};
await ensurePostgres(services);
await ensureNats(services);
const env = { ...process.env, TEST_DATABASE_ADMIN_URL: services.DATABASE_URL, TEST_NATS_URL: services.NATS_URL };

const args = process.argv.slice(2);
const filtered = args.some((a) => !a.startsWith('-'));
mkdirSync('test-artifacts', { recursive: true });

function phase(name, vitestArgs) {
  const report = `test-artifacts/vitest-${name}.json`;
  rmSync(report, { force: true });
  const r = spawnSync(
    'npx',
    ['vitest', 'run', ...vitestArgs, '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...args],
    { stdio: 'inherit', env },
  );
  return r.status ?? 1;
}

rmSync('test-artifacts', { recursive: true, force: true });
mkdirSync('test-artifacts', { recursive: true });
const status = filtered
  ? phase('selected', [])
  : Math.max(phase('main', ['--exclude', 'test/faults/**']), phase('faults', ['test/faults', '--maxWorkers=1']));
process.exit(status);
