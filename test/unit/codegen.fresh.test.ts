/**
 * The generated files (server resolver types and the SDK) are committed; this fails when they are stale:
 * it runs GraphQL Code Generator into a temporary folder and compares, file by file.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
let out = '';
afterAll(async () => {
  if (out) await rm(out, { recursive: true, force: true });
});

const filesUnder = async (dir: string) => (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name))).sort();

it('the committed generated code matches schema/ and sdk/operations/ (run `npm run codegen`)', async () => {
  out = await mkdtemp(path.join(tmpdir(), 'longrun-codegen-'));
  await promisify(execFile)(path.join(root, 'node_modules/.bin/graphql-codegen'), ['--config', 'codegen.ts', '--silent'], {
    cwd: root,
    env: { ...process.env, CODEGEN_OUT: out },
  });
  for (const dir of ['src/graphql/generated', 'sdk/generated']) {
    const fresh = await filesUnder(path.join(out, dir));
    expect(fresh.length).toBeGreaterThan(0);
    expect(await filesUnder(path.join(root, dir)), `files in ${dir}`).toEqual(fresh);
    for (const f of fresh) {
      const committed = await readFile(path.join(root, dir, f), 'utf8');
      expect(committed, `${dir}/${f} is stale: run \`npm run codegen\``).toBe(await readFile(path.join(out, dir, f), 'utf8'));
    }
  }
});
