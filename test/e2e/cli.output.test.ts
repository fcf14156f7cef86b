/**
 * What a job says (a handler's progress message, its error) reaches `longrun watch` on one line each, with
 * no control characters: a message with a line break or a terminal escape cannot split an update line in
 * two (scripts read one line per update) or drive the user's terminal.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { z } from 'zod';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PermanentJobError } from '../../src/errors.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { defineJobType } from '../../src/jobs/definition.js';
import { defineHandler } from '../../workers/handler.js';
import { startTestApp, workerSwitch, type TestApp, type WorkerSwitch } from '../support/app.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/longrun.mjs');

const echoJob = defineJobType({
  name: 'test.echo',
  description: 'reports `message` as progress, then fails with `error`',
  payload: z.object({ message: z.string(), error: z.string() }),
  maxAttempts: 1,
});
const echoHandler = defineHandler(echoJob, async ({ message, error }, ctx) => {
  ctx.progress(50, message);
  throw new PermanentJobError(error);
});

let t: TestApp;
/** Started once the watch shows the job QUEUED, so it sees the whole run (the progress report too). */
let workers: WorkerSwitch;
beforeAll(async () => {
  t = await startTestApp({ types: [...BUILTIN_JOB_TYPES, echoJob], handlers: null });
  workers = workerSwitch(t, [echoHandler]);
});
afterAll(async () => {
  await workers?.stop();
  await t?.dispose();
});

/** Runs the CLI, calling `onLine` with each stdout line as it is printed. */
function longrun(args: string[], onLine: (line: string) => void): Promise<{ code: number; stdout: string }> {
  const env = { ...process.env, LONGRUN_URL: t.url, LONGRUN_TOKEN: t.key ?? '', NODE_OPTIONS: '' };
  const child = spawn(process.execPath, [BIN, ...args], { env });
  let stdout = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  createInterface({ input: child.stdout }).on('line', onLine);
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout })));
}

describe('longrun watch, with what a job says', () => {
  it('prints a message and an error with line breaks and escapes on one line each, escaped', async () => {
    const payload = { message: 'line one\nline two \u001b[2J\u001b[31mred\r', error: 'first\nsecond\tthird\u0007' };
    let started: Promise<void> | undefined;
    const r = await longrun(['submit', 'test.echo', '--payload', JSON.stringify(payload), '--watch'], (line) => {
      if (/ QUEUED 0%$/.test(line)) started ??= workers.start();
    });
    await started;
    expect(r.code).toBe(1);
    // eslint-disable-next-line no-control-regex
    expect(r.stdout).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f]/);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^submitted \S+ test\.echo QUEUED$/);
    const updates = lines.slice(1, -1);
    expect(updates.every((l) => /^\d{4}-\d\d-\d\dT\S+ \S+ (QUEUED|RUNNING|FAILED) \d+%/.test(l))).toBe(true);
    expect(updates).toContainEqual(expect.stringMatching(/ RUNNING 50% line one\\nline two \\u001b\[2J\\u001b\[31mred\\r$/));
    expect(lines.at(-1)).toBe('error first\\nsecond\\tthird\\u0007');
  });
});

// On a terminal (util-linux `script` gives the CLI one, 60 columns wide), the bar is redrawn on one line.
describe('longrun watch on a terminal, with a message of wide characters', () => {
  it('cuts the bar’s line to the terminal’s width in columns, so it does not wrap (each redraw would leave a line behind)', async () => {
    await workers.stop(); // the job waits until the watch shows it QUEUED
    const message = 'データを変換しています、しばらくお待ちください';
    const submitted = await longrun(['submit', 'test.echo', '--payload', JSON.stringify({ message, error: 'done' })], () => {});
    const id = submitted.stdout.split(' ')[1]!;
    const env = { ...process.env, LONGRUN_URL: t.url, LONGRUN_TOKEN: t.key ?? '', NODE_OPTIONS: '' };
    const child = spawn('script', ['-qec', `stty cols 60; ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} watch ${id}`, '/dev/null'], { env });
    let terminal = '';
    let started: Promise<void> | undefined;
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      terminal += d;
      if (terminal.includes('QUEUED')) started ??= workers.start();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    await started;
    expect(code).toBe(1);
    // 59 columns: the bar and `  50% RUNNING  ` take 47, leaving 12 for the message, six of its characters.
    const redraws = terminal.split('\r\u001b[2K').map((d) => d.split(/\r?\n|\r/)[0]);
    expect(redraws).toContain(`[${'#'.repeat(15)}${'.'.repeat(15)}]  50% RUNNING  データを変換`);
  });
});

describe('longrun, when the reader of its output goes away (`longrun watch … | head -2`)', () => {
  it('stops quietly with exit 141, as a tool killed by SIGPIPE, instead of a stack trace and exit 1 (the code of a FAILED job)', async () => {
    const env = { ...process.env, LONGRUN_URL: t.url, LONGRUN_TOKEN: t.key ?? '', NODE_OPTIONS: '' };
    const payload = { message: 'working', error: 'done' };
    const child = spawn(process.execPath, [BIN, 'submit', 'test.echo', '--payload', JSON.stringify(payload), '--watch'], { env });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    let started: Promise<void> | undefined;
    createInterface({ input: child.stdout }).once('line', () => {
      child.stdout.destroy(); // the reader is gone: the watch's next line meets a closed pipe
      started ??= workers.start(); // its updates come only now
    });
    const code = await exited;
    await started;
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });

  it('ends `longrun keys list` the same way (it writes through the keys command, straight to the database)', async () => {
    const env = { ...process.env, DATABASE_URL: t.env.databaseUrl, NODE_OPTIONS: '' };
    const child = spawn(process.execPath, [BIN, 'keys', 'list'], { env });
    child.stdout.destroy(); // `longrun keys list | true`: the reader is gone before the list is written
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).toBe('');
    expect(code).toBe(141);
  });
});

describe('longrun, when its output cannot be written (a full disk: `longrun jobs > /full/jobs.txt`)', () => {
  /** Runs the CLI with stdout on /dev/full, whose every write fails with ENOSPC. */
  async function toFullDisk(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
    const full = openSync('/dev/full', 'w');
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NODE_OPTIONS: '', ...env }, stdio: ['ignore', full, 'pipe'] });
    closeSync(full);
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    return { code: await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c))), stderr };
  }

  it('says so on one line and exits 3 (1 for `keys`, its code for a failure), not with a stack trace and exit 1', async () => {
    expect(await toFullDisk(['types'], { LONGRUN_URL: t.url, LONGRUN_TOKEN: t.key ?? '' })).toEqual({ code: 3, stderr: 'longrun: cannot write the output: ENOSPC\n' });
    expect(await toFullDisk(['keys', 'list'], { DATABASE_URL: t.env.databaseUrl })).toEqual({ code: 1, stderr: 'longrun: cannot write the output: ENOSPC\n' });
  });
});
