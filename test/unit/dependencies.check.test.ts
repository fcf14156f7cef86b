/**
 * `npm start` / `npm test` install dependencies only when what is installed differs from package-lock.json,
 * not whenever the lockfile's file is newer (a checkout, a new work tree), and never through a node_modules
 * that links to another checkout's: `npm ci` there replaced the link and emptied the other checkout's
 * node_modules. The check runs in a child process with no `npm` on its PATH, so nothing is ever installed.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/dependencies.mjs');
let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'longrun-deps-'));
});
afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

const lock = (version: string) => ({
  name: 'app',
  lockfileVersion: 3,
  packages: { '': { name: 'app' }, 'node_modules/zod': { version }, 'node_modules/@esbuild/darwin-arm64': { version: '1.0.0', optional: true } },
});

/** A checkout at `root` whose lockfile wants zod `wanted`; its node_modules (at `modules`) has zod `installed`. */
async function checkout(root: string, modules: string, o: { wanted: string; installed: string }) {
  await mkdir(modules, { recursive: true });
  await writeFile(path.join(modules, '.package-lock.json'), JSON.stringify({ ...lock(o.installed), packages: { 'node_modules/zod': { version: o.installed } } }));
  await writeFile(path.join(modules, 'marker'), 'installed');
  await mkdir(root, { recursive: true });
  if (modules !== path.join(root, 'node_modules')) await symlink(modules, path.join(root, 'node_modules'), 'dir');
  await writeFile(path.join(root, 'package-lock.json'), JSON.stringify(lock(o.wanted)));
  // The lockfile was checked out after the install.
  const later = new Date(Date.now() + 60_000);
  await utimes(path.join(root, 'package-lock.json'), later, later);
}

function ensure(root: string): Promise<{ code: number; output: string }> {
  const code = `import { ensureDependencies } from ${JSON.stringify(SCRIPT)}; ensureDependencies(process.argv[1], (l) => console.log(l));`;
  return new Promise((resolve) =>
    execFile(process.execPath, ['--input-type=module', '-e', code, root], { env: { PATH: '' } }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, output: stdout + stderr }),
    ),
  );
}

it('installs nothing when node_modules holds what the lockfile names, however new the lockfile file is', async () => {
  const root = path.join(dir, 'fresh-checkout');
  await checkout(root, path.join(root, 'node_modules'), { wanted: '4.1.0', installed: '4.1.0' });
  expect(await ensure(root)).toEqual({ code: 0, output: 'dependencies up to date\n' });
});

it('does not run npm ci through a node_modules linked to another checkout; says where to install instead', async () => {
  const shared = path.join(dir, 'main', 'node_modules');
  const root = path.join(dir, 'work-tree');
  await checkout(root, shared, { wanted: '4.2.0', installed: '4.1.0' });
  const r = await ensure(root);
  expect(r.code).toBe(1);
  expect(r.output).toBe(`longrun: node_modules links to ${shared}, whose packages differ from package-lock.json; install there (npm ci) or replace the link\n`);
  expect(await readdir(shared)).toContain('marker');
});
