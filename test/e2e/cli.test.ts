/**
 * The `longrun` command, spawned as a user would run it (bin/longrun.mjs), against a real app. Its stdout is
 * a pipe, not a TTY, so it prints plain greppable lines.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/longrun.mjs');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp();
});
afterAll(async () => {
  await t?.dispose();
});

function longrun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, LONGRUN_URL: t.url, NODE_OPTIONS: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('longrun CLI', () => {
  it('submit --watch prints one line per update and the result, exit 0', async () => {
    // Steps 1 s apart: each is recorded (progress writes are throttled to one per 250 ms), and a watch
    // started by `submit --watch` replays the history from seq 0, however slowly it connects.
    const r = await longrun('submit', 'demo.sleep', '--payload', '{"ms": 3000, "steps": 3}', '--watch');
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^submitted ${UUID} demo\\.sleep QUEUED$`));
    const id = lines[0]!.split(' ')[1]!;
    const updates = lines.slice(1, -1);
    expect(updates.every((l) => l.split(' ')[1] === id)).toBe(true);
    expect(updates.filter((l) => / RUNNING \d+% step \d+\/3$/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(updates.at(-1)).toMatch(/ SUCCEEDED 100%/);
    expect(lines.at(-1)).toBe('result {"slept":3000,"steps":3}');
    expect(r.code).toBe(0);
  });

  it('watch exits non-zero with the error when the job FAILED', async () => {
    const submitted = await longrun('submit', 'demo.flaky', '--payload', '{"permanent": true}', '--max-attempts', '1');
    const id = submitted.stdout.split(' ')[1]!;
    const r = await longrun('watch', id);
    expect(r.stdout).toMatch(new RegExp(`${id} FAILED`));
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^error /);
    expect(r.code).toBe(1);
  });

  it('cancel, then watch exits 1 on CANCELLED; retry refuses a non-FAILED job with exit 2', async () => {
    const id = (await longrun('submit', 'demo.sleep', '--payload', '{"ms": 60000, "steps": 60}')).stdout.split(' ')[1]!;
    const cancelled = await longrun('cancel', id);
    expect(cancelled.stdout).toMatch(new RegExp(`^cancelled ${id} demo\\.sleep (CANCELLED|RUNNING)`));
    const watched = await longrun('watch', id);
    expect(watched.stdout).toContain(`${id} CANCELLED`);
    expect(watched.code).toBe(1);
    const retried = await longrun('retry', id);
    expect(retried.stderr).toMatch(/^error INVALID_STATE id: /);
    expect(retried.code).toBe(2);
  });

  it('retries a FAILED job', async () => {
    const id = (await longrun('submit', 'demo.flaky', '--payload', '{"permanent": true}', '--max-attempts', '1', '--watch')).stdout.split(' ')[1]!;
    const r = await longrun('retry', id);
    expect(r.stdout.trim()).toBe(`retried ${id} demo.flaky QUEUED`);
    expect(r.code).toBe(0);
  });

  it('jobs lists tab-separated rows, filtered by state and type', async () => {
    const r = await longrun('jobs', '--state', 'succeeded', '--type', 'demo.sleep', '--first', '5');
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.every((c) => c[1] === 'demo.sleep' && c[2] === 'SUCCEEDED' && c[3] === '100%')).toBe(true);
    expect(r.stderr).toMatch(/^\d+ of \d+/);
  });

  it('stats prints one row per type', async () => {
    const r = await longrun('stats');
    const sleep = r.stdout.split('\n').find((l) => l.startsWith('demo.sleep\t'))!;
    expect(sleep.split('\t')).toHaveLength(8);
    expect(Number(sleep.split('\t')[6])).toBeGreaterThanOrEqual(1); // finished in the last minute
  });

  it('reports refused input, bad usage and an unknown job with distinct exit codes', async () => {
    const bad = await longrun('submit', 'demo.sleep', '--payload', '{"ms": "soon"}');
    expect(bad.stderr).toMatch(/^error INVALID_PAYLOAD input\.payload\.ms: /);
    expect(bad.code).toBe(2);
    const usage = await longrun('submit', 'demo.sleep', '--payload', '{not json');
    expect(usage.stderr).toMatch(/--payload must be JSON/);
    expect(usage.code).toBe(2);
    const missing = await longrun('watch', '00000000-0000-4000-8000-000000000000');
    expect(missing.stderr.trim()).toBe('longrun: NOT_FOUND: job not found');
    expect(missing.code).toBe(3);
  });
});
