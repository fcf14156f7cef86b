/**
 * Every longrun process runs its TypeScript through tsx (`node --import tsx`), which npm's postinstall mends
 * (scripts/patch-dependencies.mjs) to compile without esbuild's `keepNames`: no `__name(…)` call wraps each
 * function made at run time (an `Object.defineProperty` per closure, per call of the function that makes it;
 * about 11 % of a worker's CPU per job in a drain). Functions keep the names JavaScript gives them.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

it('runs TypeScript without a __name wrapper around each closure, and functions keep their names', () => {
  const dir = mkdtempSync(join(tmpdir(), 'longrun-tsx-'));
  try {
    const file = join(dir, 'names.ts');
    writeFileSync(
      file,
      `export function makeHandler(): (n: number) => number {
         const onJob = (n: number): number => n + 1;
         return onJob;
       }
       class Slot { static made = Slot; take = (): string => 'taken'; }
       class RateLimited extends Error {}
       const handler = makeHandler();
       console.log(JSON.stringify({ source: String(makeHandler), handler: handler.name, method: new Slot().take.name,
         classes: [Slot.made.name, new RateLimited().constructor.name], result: handler(1) }));`,
    );
    const r = spawnSync(process.execPath, ['--import', 'tsx', file], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    const printed = JSON.parse(r.stdout) as { source: string; handler: string; method: string; classes: string[]; result: number };
    expect(printed.source).not.toContain('__name');
    // A handler's error class names its failure (jobs/outcome.ts errorClass): still its own name.
    expect(printed).toMatchObject({ handler: 'onJob', method: 'take', classes: ['Slot', 'RateLimited'], result: 2 });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
