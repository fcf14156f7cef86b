/** The browser pages of the Vite build (vite.config.ts), for the tests that load them. */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { pagesOutOfDate } from '../../scripts/pages.mjs';

const root = path.resolve(import.meta.dirname, '../..');

/** Builds dist/ (`npm run build:graphiql`) when a page is missing or out of date, as scripts/start.mjs does. */
export async function ensurePagesBuilt(): Promise<void> {
  if (pagesOutOfDate(root) === undefined) return;
  await promisify(execFile)(path.join(root, 'node_modules/.bin/vite'), ['build', '--logLevel', 'warn'], { cwd: root });
}
