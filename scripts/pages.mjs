/**
 * Whether the browser pages (`npm run build:graphiql`: dist/graphiql/index.html, dist/dashboard/index.html)
 * must be built again. Each build records what it read in dist/.inputs.json (the Vite plugin `recordInputs`,
 * vite.config.ts): every file of this repository that went into a page (outside node_modules), plus
 * package-lock.json (the versions of the bundled packages) and vite.config.ts, each with its SHA-256. The pages
 * are out of date when one is missing, when that record is missing or unreadable, or when a file it lists is
 * missing or differs. Node built-ins only: scripts/start.mjs imports it before `npm install`; the tests'
 * global setup (test/support/pages.ts) asks the same question.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs';
import { isAbsolute, join, relative, sep } from 'node:path';

/** The pages the build makes, relative to its output folder. */
const PAGES = ['graphiql/index.html', 'dashboard/index.html'];
/** The record of a build's inputs, in its output folder. */
const STAMP = '.inputs.json';
/** Read by every build besides the pages' modules. */
const ALWAYS = ['package-lock.json', 'vite.config.ts'];
/** How many changed files a reason names. */
const NAMED = 3;

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** `file` as said to a user: relative to `root` when inside it, with forward slashes. */
function shown(root, file) {
  const r = relative(root, file);
  return r.startsWith('..') || isAbsolute(r) ? file : r.split(sep).join('/');
}

/** `id` (a module id: an absolute path, maybe with a query) relative to one of `roots`, if it is a file of the repository. */
function repositoryFile(roots, id) {
  if (id.startsWith('\0')) return undefined; // a virtual module (Vite's helpers)
  const file = id.replace(/[?#].*$/, '');
  for (const root of roots) {
    const r = relative(root, file);
    if (r === '' || r.startsWith('..') || isAbsolute(r)) continue;
    if (r.split(sep).includes('node_modules') || !existsSync(file)) return undefined;
    return r.split(sep).join('/');
  }
  return undefined;
}

/**
 * Vite plugin: once the pages are written, records in `<outDir>/.inputs.json` the repository files the build
 * read (relative to `root`, each with its SHA-256). A failed build writes none, so the next check rebuilds.
 * @param {string} root the repository root (vite.config.ts's folder)
 * @returns {import('vite').Plugin}
 */
export function recordInputs(root) {
  let outDir = '';
  return {
    name: 'longrun-record-inputs',
    apply: 'build',
    configResolved(config) {
      outDir = config.build.outDir;
    },
    writeBundle() {
      // Module ids are real paths; `root` may go through a symbolic link.
      const roots = [...new Set([root, realpathSync(root)])];
      const read = [...this.getModuleIds()].map((id) => repositoryFile(roots, id)).filter((f) => f !== undefined);
      const files = Object.fromEntries([...new Set([...read, ...ALWAYS])].sort().map((f) => [f, sha256(join(root, f))]));
      writeFileSync(join(outDir, STAMP), `${JSON.stringify({ files }, null, 2)}\n`);
    },
  };
}

/** The files of `files` (path → SHA-256, relative to `root`) that are missing or differ, as said to a user. */
function changedFiles(root, files) {
  const changed = [];
  for (const [file, hash] of Object.entries(files)) {
    if (!existsSync(join(root, file))) changed.push(`${file} deleted`);
    else if (sha256(join(root, file)) !== hash) changed.push(`${file} changed`);
  }
  if (changed.length <= NAMED) return changed;
  return [...changed.slice(0, NAMED), `${changed.length - NAMED} more changed`];
}

/**
 * Why the browser pages must be (re)built, or undefined when they are up to date. Reads the build's record
 * and hashes the few dozen files it lists.
 * @example pagesOutOfDate(root) // 'src/jobs/rate-limit-text.ts changed'
 * @param {string} root the repository root
 * @param {string} [dist] the build's output folder @default <root>/dist
 * @returns {string | undefined}
 */
export function pagesOutOfDate(root, dist = join(root, 'dist')) {
  const missing = PAGES.map((p) => join(dist, p)).filter((p) => !existsSync(p));
  if (missing.length > 0) return `${missing.map((p) => shown(root, p)).join(', ')} missing`;
  const stamp = join(dist, STAMP);
  if (!existsSync(stamp)) return `${shown(root, stamp)} missing (what the pages were built from)`;
  let files;
  try {
    files = JSON.parse(readFileSync(stamp, 'utf8')).files;
    if (typeof files !== 'object' || files === null || Object.keys(files).length === 0) throw new Error('no files listed');
  } catch (err) {
    return `${shown(root, stamp)} unreadable (${err instanceof Error ? err.message : String(err)})`;
  }
  const changed = changedFiles(root, files);
  return changed.length > 0 ? changed.join(', ') : undefined;
}
