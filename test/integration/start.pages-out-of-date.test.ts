/**
 * `npm start` and the tests' global setup rebuild the browser pages when a file they were built from changed,
 * not only when a page is missing: a checkout that pulled a change to the dashboard (or to a module it imports,
 * or package-lock.json) served the old pages until someone ran `npm run build:graphiql` by hand. Each build
 * records what it read (dist/.inputs.json, scripts/pages.mjs).
 *
 * Everything happens in a copy of the repository's build inputs in a temporary folder (node_modules linked):
 * other test files load the real dist/ meanwhile, so it is never built, changed or removed here.
 */
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { pagesOutOfDate } from '../../scripts/pages.mjs';
import { ADMIN_URL, NATS_URL } from '../setup/global.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
/** What the build reads, and what `node scripts/start.mjs` needs. */
const COPIED = ['src', 'scripts', 'vite.config.ts', 'package.json', 'package-lock.json', 'tsconfig.json'];
const run = promisify(execFile);

let copy = '';
beforeAll(async () => {
  copy = await mkdtemp(path.join(tmpdir(), 'longrun-pages-'));
  await Promise.all(COPIED.map((f) => cp(path.join(ROOT, f), path.join(copy, f), { recursive: true })));
  await symlink(path.join(ROOT, 'node_modules'), path.join(copy, 'node_modules'), 'dir');
  await run(path.join(copy, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: copy });
});
afterAll(async () => {
  if (copy) await rm(copy, { recursive: true, force: true });
});

/** Runs `fn` with `file` (relative to the copy) edited by `edit`, then puts the file back. */
async function whileEdited<T>(file: string, edit: (text: string) => string, fn: () => Promise<T> | T): Promise<T> {
  const original = await readFile(path.join(copy, file), 'utf8');
  const edited = edit(original);
  expect(edited).not.toBe(original);
  await writeFile(path.join(copy, file), edited);
  try {
    return await fn();
  } finally {
    await writeFile(path.join(copy, file), original);
  }
}

it('a fresh build is up to date', () => {
  expect(pagesOutOfDate(copy)).toBeUndefined();
});

it('names the changed file: a page source, a module a page imports, the lockfile, the Vite config', async () => {
  for (const file of ['src/graphiql/main.tsx', 'src/jobs/rate-limit-text.ts', 'package-lock.json', 'vite.config.ts']) {
    const why = await whileEdited(file, (t) => `${t}\n`, () => pagesOutOfDate(copy));
    expect(why).toBe(`${file} changed`);
  }
  // A file no page imports does not count; a file put back counts no more.
  expect(await whileEdited('src/main.ts', (t) => `${t}\n// edited\n`, () => pagesOutOfDate(copy))).toBeUndefined();
  expect(pagesOutOfDate(copy)).toBeUndefined();
});

it('is out of date when the record of the build is missing or unreadable (pages built before it existed)', async () => {
  const stamp = path.join(copy, 'dist/.inputs.json');
  await rename(stamp, `${stamp}.away`);
  try {
    expect(pagesOutOfDate(copy)).toBe('dist/.inputs.json missing (what the pages were built from)');
  } finally {
    await rename(`${stamp}.away`, stamp);
  }
  expect(await whileEdited('dist/.inputs.json', () => '{', () => pagesOutOfDate(copy))).toMatch(/^dist\/\.inputs\.json unreadable \(/);
  expect(pagesOutOfDate(copy)).toBeUndefined();
});

it('node scripts/start.mjs rebuilds the pages after a source edit, says why, and serves the edit', { timeout: 180_000 }, async () => {
  await writeFile(path.join(copy, 'noop.ts'), '');
  const start = () =>
    run(process.execPath, ['scripts/start.mjs', 'noop.ts'], {
      cwd: copy,
      env: { ...process.env, DATABASE_URL: ADMIN_URL, NATS_URL },
    }).then((r) => r.stdout.split('\n').filter((l) => /^longrun: .*(build:graphiql|bundle)/.test(l)));

  // The dashboard shows a type's rate limit through src/jobs/rate-limit-text.ts.
  const file = path.join(copy, 'src/jobs/rate-limit-text.ts');
  await writeFile(file, (await readFile(file, 'utf8')).replace('`${l.max}/${l.perMs}ms', '`${l.max} jobs per ${l.perMs}ms'));
  expect(await start()).toEqual(['longrun: src/jobs/rate-limit-text.ts changed: running npm run build:graphiql']);
  const assets = path.join(copy, 'dist/graphiql/assets');
  const dashboard = (await readdir(assets)).filter((f) => /^dashboard-.*\.js$/.test(f));
  expect(dashboard).toHaveLength(1);
  expect(await readFile(path.join(assets, dashboard[0]!), 'utf8')).toContain(' jobs per ');

  expect(await start()).toEqual(['longrun: GraphiQL and dashboard bundle up to date']);
});
