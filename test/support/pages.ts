/** The browser pages of the Vite build (vite.config.ts), for the tests that load them. */
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const root = path.resolve(import.meta.dirname, '../..');

/** Builds dist/ (`npm run build:graphiql`) when a page is missing, as scripts/start.mjs does. */
export async function ensurePagesBuilt(): Promise<void> {
  const pages = ['dist/graphiql/index.html', 'dist/dashboard/index.html'];
  const built = await Promise.all(pages.map((p) => access(path.join(root, p)).then(() => true, () => false)));
  if (built.every(Boolean)) return;
  await promisify(execFile)(path.join(root, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: root });
}
