/**
 * `node <path>/scripts/start.mjs <entry>` through a symbolic link (a deploy's `current -> releases/…`, macOS'
 * /tmp) runs as through the real path. It checked that it was the main module by comparing its path as given
 * with its resolved one, so through a link it started nothing and exited 0: a service that never started,
 * with nothing said.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

it('runs when its path goes through a symbolic link', () => {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-link-'));
  try {
    symlinkSync(ROOT, join(dir, 'current'));
    // No entry: a usage error, proof that it ran (an entry would start services).
    const r = spawnSync(process.execPath, [join(dir, 'current', 'scripts', 'start.mjs')], { encoding: 'utf8' });
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 1, stderr: 'longrun: usage: node scripts/start.mjs <entry.ts> [args...]\n' });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
