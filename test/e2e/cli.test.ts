/**
 * The `longrun` command, spawned as a user would run it (bin/longrun.mjs), against a real app. Its stdout is
 * a pipe, not a TTY, so it prints plain greppable lines. Workers start once the first watch is attached, so
 * it sees the whole run however slow the machine is.
 */
import { execFile, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { countRows, useAppWithWorkerSwitch } from '../support/app.js';
import { gql, JOB, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/longrun.mjs');

const app = useAppWithWorkerSwitch();

const env = () => ({ ...process.env, LONGRUN_URL: app.t.url, LONGRUN_TOKEN: app.t.key ?? '', NODE_OPTIONS: '' });

function longrun(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env: env() }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

/** Runs the CLI, calling `onLine` with each stdout line as it is printed. */
function longrunLive(args: string[], onLine: (line: string) => void): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { env: env() });
  let stdout = '';
  let stderr = '';
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdout += `${line}\n`;
    onLine(line);
  });
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr })));
}

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

describe('longrun CLI', () => {
  it('submit --watch prints one line per update and the result, exit 0', async () => {
    // The job stays QUEUED until the watch shows it; then the workers start.
    let started: Promise<void> | undefined;
    const r = await longrunLive(['submit', 'demo.sleep', '--payload', '{"ms": 600, "steps": 3}', '--watch'], (line) => {
      if (/ QUEUED 0%$/.test(line)) started ??= app.workers.start();
    });
    await started;
    expect(r.stderr).toBe('');
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(new RegExp(`^submitted ${UUID} demo\\.sleep QUEUED$`));
    const id = lines[0]!.split(' ')[1]!;
    const updates = lines.slice(1, -1);
    expect(updates.every((l) => l.split(' ')[1] === id)).toBe(true);
    expect(updates.filter((l) => / RUNNING \d+% step \d+\/3$/.test(l)).length).toBeGreaterThanOrEqual(3);
    expect(updates.at(-1)).toMatch(/ SUCCEEDED 100%/);
    expect(lines.at(-1)).toBe('result {"slept":600,"steps":3}');
    expect(r.code).toBe(0);
  });

  it('watch exits non-zero with the error when the job FAILED', async () => {
    await app.workers.start();
    const submitted = await longrun('submit', 'demo.flaky', '--payload', '{"permanent": true}', '--max-attempts', '1');
    const id = submitted.stdout.split(' ')[1]!;
    const r = await longrun('watch', id);
    expect(r.stdout).toMatch(new RegExp(`${id} FAILED`));
    expect(r.stdout.trim().split('\n').at(-1)).toMatch(/^error /);
    expect(r.code).toBe(1);
  });

  it('watch --json prints each update as one JSON object per line, the error in the last; submit --json --watch too', async () => {
    await app.workers.start();
    const submitted = await longrun('submit', 'demo.flaky', '--payload', '{"permanent": true}', '--max-attempts', '1', '--watch', '--json');
    const [job, ...updates] = submitted.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(job).toMatchObject({ type: 'demo.flaky', state: 'QUEUED' });
    expect(updates.every((u) => u.jobId === job.id)).toBe(true);
    expect(updates.at(-1)).toMatchObject({ state: 'FAILED', error: 'permanent failure on attempt 1' });
    expect(submitted.code).toBe(1);
    const watched = await longrun('watch', job.id, '--json');
    expect(watched.stdout.trim().split('\n').map((l) => JSON.parse(l))).toEqual([expect.objectContaining({ jobId: job.id, state: 'FAILED' })]);
    expect(watched.code).toBe(1);
    // Resumed at its last update: no update comes, so the job itself is the line.
    const resumed = await longrun('watch', job.id, '--after', String(updates.at(-1).seq), '--json');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ id: job.id, state: 'FAILED', error: 'permanent failure on attempt 1' });
    expect(resumed.code).toBe(1);
  });

  it('cancel, then watch exits 1 on CANCELLED; retry refuses a non-FAILED job with exit 2', async () => {
    await app.workers.start();
    const id = (await longrun('submit', 'demo.sleep', '--payload', '{"ms": 60000, "steps": 60}')).stdout.split(' ')[1]!;
    await waitForJob(app.t.url, id, (j) => j.state === 'RUNNING');
    const cancelled = await longrun('cancel', id); // asked of its worker: it ends CANCELLED once the handler stopped
    expect(cancelled.stdout).toMatch(new RegExp(`^cancel requested ${id} demo\\.sleep RUNNING`));
    const watched = await longrun('watch', id);
    expect(watched.stdout).toContain(`${id} CANCELLED`);
    expect(watched.stdout.trimEnd().split('\n').at(-1)).toBe('cancelled'); // the last line says how it ended
    expect(watched.code).toBe(1);
    const retried = await longrun('retry', id);
    expect(retried.stderr).toMatch(/^error INVALID_STATE id: /);
    expect(retried.code).toBe(2);
  });

  it('retries a FAILED job', async () => {
    await app.workers.start();
    const id = (await longrun('submit', 'demo.flaky', '--payload', '{"permanent": true}', '--max-attempts', '1', '--watch')).stdout.split(' ')[1]!;
    const r = await longrun('retry', id);
    expect(r.stdout.trim()).toBe(`retried ${id} demo.flaky QUEUED`);
    expect(r.code).toBe(0);
  });

  it('show prints a job: its fields, then its history; --json the job; an unknown job is exit 3', async () => {
    await app.workers.start();
    const id = (await longrun('submit', 'demo.flaky', '--payload', '{"permanent": true}', '--max-attempts', '1', '--watch')).stdout.split(' ')[1]!;
    const r = await longrun('show', id);
    expect(r.code).toBe(0);
    const [fields, history] = r.stdout.split('\n\n').map((part) => part.trim().split('\n').map((l) => l.split('\t')));
    expect(Object.fromEntries(fields!)).toMatchObject({
      id,
      type: 'demo.flaky',
      state: 'FAILED',
      attempts: '1/1',
      error: 'permanent failure on attempt 1',
      payload: '{"permanent":true}',
    });
    expect(history!.map((row) => [row[2], row[4]])).toEqual([
      ['QUEUED', '0'],
      ['RUNNING', '1'],
      ['FAILED', '1'],
    ]);
    expect(history!.at(-1)![5]).toBe('permanent failure on attempt 1');
    const json = JSON.parse((await longrun('show', id, '--json')).stdout);
    expect(json).toMatchObject({ id, state: 'FAILED', events: [{ state: 'QUEUED' }, { state: 'RUNNING' }, { state: 'FAILED' }] });
    const missing = await longrun('show', '00000000-0000-4000-8000-000000000000');
    expect(missing.stderr.trim()).toBe('longrun: NOT_FOUND: job not found');
    expect(missing.code).toBe(3);
  });

  it('dead-letters lists dead-lettered jobs with their errors, one --type at most', async () => {
    await app.workers.start();
    const id = (await longrun('submit', 'demo.flaky', '--payload', '{"failures": 5}', '--max-attempts', '2', '--watch')).stdout.split(' ')[1]!;
    // The copy is recorded just after the job is FAILED.
    const row = await eventually(async () => {
      const r = await longrun('dead-letters', '--type', 'demo.flaky', '--first', '100');
      expect(r.code).toBe(0);
      return r.stdout.trim().split('\n').map((l) => l.split('\t')).find((c) => c[0] === id);
    });
    expect(row).toEqual([id, 'demo.flaky', '2/2', expect.stringMatching(/^\d{4}-\d\d-\d\dT/), 'flaky failure 2 of 5']);
    const none = await longrun('dead-letters', '--type', 'demo.noop');
    expect(none.stdout).toBe('');
    expect(none.stderr).toBe('0 of 0\n');
    const two = await longrun('dead-letters', '--type', 'demo.flaky', '--type', 'demo.noop');
    expect(two.stderr).toMatch(/^longrun: dead-letters takes one --type at most\n/);
    expect(two.code).toBe(2);
  });

  it('submit --timeout-ms sets the attempt timeout, within the type\'s', async () => {
    await app.workers.start();
    const r = await longrun('submit', 'demo.sleep', '--payload', '{"ms": 60000, "steps": 60}', '--max-attempts', '1', '--timeout-ms', '300', '--watch');
    expect(r.stdout.trim().split('\n').at(-1)).toBe('error timed out after 300 ms');
    expect(r.code).toBe(1);
    const low = await longrun('submit', 'demo.noop', '--timeout-ms', '50');
    expect(low.stderr).toMatch(/^error OUT_OF_RANGE input\.timeoutMs: timeoutMs must be between 100 and \d+\n$/);
    expect(low.code).toBe(2);
  });

  it('jobs lists tab-separated rows, filtered by state and type', async () => {
    await app.workers.start();
    const r = await longrun('jobs', '--state', 'succeeded', '--type', 'demo.sleep', '--first', '5');
    const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.every((c) => c[1] === 'demo.sleep' && c[2] === 'SUCCEEDED' && c[3] === '100%')).toBe(true);
    expect(r.stderr).toMatch(/^\d+ of \d+/);
  });

  it('jobs --id lists those jobs only', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await longrun('submit', 'demo.noop')).stdout.split(' ')[1]!);
    const r = await longrun('jobs', '--id', ids[0]!, '--id', ids[2]!);
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n').map((l) => l.split('\t')[0])).toEqual([ids[2], ids[0]]);
    expect(r.stderr).toMatch(/^2 of 2\n$/);
  });

  it('jobs --first 0 prints the count alone, with no next page to go to', async () => {
    expect((await longrun('submit', 'demo.noop')).code).toBe(0);
    const r = await longrun('jobs', '--first', '0');
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^0 of [1-9]\d*\n$/);
    expect(r.code).toBe(0);
  });

  it('stats prints one row per type, counting jobs finished in the last minute', async () => {
    await app.workers.start();
    expect((await longrun('submit', 'demo.noop', '--watch')).code).toBe(0);
    const r = await longrun('stats');
    const noop = r.stdout.split('\n').find((l) => l.startsWith('demo.noop\t'))!.split('\t');
    expect(noop).toHaveLength(11);
    expect(Number(noop[6])).toBeGreaterThanOrEqual(1);
    expect(noop[10]).toBe('-'); // no rate limit
  });

  it('reports refused input, bad usage and an unknown job with distinct exit codes', async () => {
    await app.workers.start();
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

  it('refuses arguments and options a command does not take (exit 2, nothing sent), instead of ignoring them', async () => {
    const extra = await longrun('cancel', '00000000-0000-4000-8000-000000000000', '00000000-0000-4000-8000-000000000001');
    expect(extra.stderr).toMatch(/^longrun: cancel takes one argument; left over: "00000000-0000-4000-8000-000000000001"\n/);
    expect(extra.code).toBe(2);
    const stray = await longrun('submit', 'demo.noop', '--after', '3', '--first', '5');
    expect(stray.stderr).toMatch(/^longrun: --after, --first does not apply to submit/);
    expect(stray.code).toBe(2);
    expect(stray.stdout).toBe(''); // not submitted
  });

  it('refuses an option that takes one value given twice (exit 2, nothing done), instead of keeping the last', async () => {
    const jobs = () => countRows(app.t.env.sql, 'jobs');
    const before = await jobs();
    const purge = await longrun('purge', '--older-than', '30d', '--state', 'SUCCEEDED', '--older-than', '0s');
    expect(purge.stderr).toMatch(/^longrun: --older-than given more than once: give each once\n/);
    expect(purge).toMatchObject({ code: 2, stdout: '' });
    expect(await jobs()).toBe(before); // nothing purged
    const submit = await longrun('submit', 'demo.noop', '--payload', '{"a": 1}', '--payload', '{"a": 2}');
    expect(submit.stderr).toMatch(/^longrun: --payload given more than once: give each once\n/);
    expect(submit).toMatchObject({ code: 2, stdout: '' });
    expect(await jobs()).toBe(before); // nothing submitted
    // A repeatable option (--state, --type) still takes every value it is given.
    expect((await longrun('jobs', '--state', 'QUEUED', '--state', 'FAILED')).code).toBe(0);
    const keys = await new Promise<{ code: number; stderr: string }>((resolve) =>
      execFile(process.execPath, [BIN, 'keys', 'create', '--owner', 'alice', '--owner', 'mallory'], { env: { ...env(), DATABASE_URL: app.t.env.databaseUrl } }, (err, _out, stderr) =>
        resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stderr }),
      ),
    );
    expect(keys.code).toBe(2);
    expect(keys.stderr).toMatch(/^longrun keys: create needs --owner NAME \(once\) and nothing else\n/);
  });

  it('reads numbers in decimal digits only: --first 0x10, --max-attempts 1e1 or empty, --after 0x1 are bad usage (exit 2, nothing sent)', async () => {
    for (const args of [['jobs', '--first', '0x10'], ['submit', 'demo.noop', '--max-attempts', '1e1'], ['submit', 'demo.noop', '--max-attempts', ''], ['watch', '00000000-0000-4000-8000-000000000000', '--after', '0x1']]) {
      const r = await longrun(...args);
      expect(r.stderr).toMatch(/^longrun: --(first|max-attempts|after) must be a (whole|seq) number in decimal digits\n/);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(2);
    }
  });

  it('refuses an empty --after of jobs and dead-letters as bad usage (exit 2, nothing printed), instead of printing the first page as the next', async () => {
    // `--after "$NEXT"` with NEXT unset: the server reads an empty cursor as none.
    for (const args of [['jobs', '--after', ''], ['jobs', '--after', '  '], ['dead-letters', '--after', '']]) {
      const r = await longrun(...args);
      expect(r.stderr).toMatch(/^longrun: --after is empty: give the cursor a page ended with \(next page: --after …\), or leave --after out for the first page\n\nusage: longrun/);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(2);
    }
  });

  it('watch --after the last update of a FAILED job still exits 1 with its error', async () => {
    await app.workers.start();
    const id = (await longrun('submit', 'demo.flaky', '--payload', '{"permanent": true}', '--max-attempts', '1', '--watch')).stdout.split(' ')[1]!;
    const job = (await gql(app.t.url, JOB, { id })).body.data.job;
    expect(job.state).toBe('FAILED');
    // Nothing was recorded after its last seq: the watch gets no update, yet the job FAILED.
    const r = await longrun('watch', id, '--after', String(job.events.at(-1).seq));
    expect(r.stdout.trim().split('\n').at(-1)).toBe(`error ${job.error}`);
    expect(r.code).toBe(1);
  });

  it('refused input the server finds (an unknown state, a page over 100, an after past the job) exits 2', async () => {
    await app.workers.start();
    const state = await longrun('jobs', '--state', 'done');
    expect(state.stderr).toMatch(/--state must be one of QUEUED, RUNNING, RETRYING, SUCCEEDED, FAILED, CANCELLED/);
    expect(state.code).toBe(2);
    const page = await longrun('jobs', '--first', '500');
    expect(page.stderr.trim()).toBe('longrun: BAD_USER_INPUT: first must be between 0 and 100');
    expect(page.code).toBe(2);
    const id = (await longrun('submit', 'demo.noop', '--watch')).stdout.split(' ')[1]!;
    const past = await longrun('watch', id, '--after', '1000000');
    expect(past.stderr).toMatch(/^longrun: BAD_USER_INPUT: after: 1000000 is past every update of this job/);
    expect(past.code).toBe(2);
  });

  // On a terminal (util-linux `script`, in Debian's essential bsdutils, gives the CLI one), the bar is redrawn on one line with no line break.
  it('on a terminal, an error that ends the watch goes on its own line, not after the progress bar', async () => {
    await app.workers.start();
    const user = await app.t.createKey('tty-user');
    const submitted = await new Promise<string>((resolve) =>
      execFile(process.execPath, [BIN, 'submit', 'demo.sleep', '--payload', '{"ms": 60000, "steps": 60}'], { env: { ...env(), LONGRUN_TOKEN: user.key } }, (_e, stdout) => resolve(stdout)),
    );
    const id = submitted.split(' ')[1]!;
    const child = spawn('script', ['-qec', `${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} watch ${id}`, '/dev/null'], {
      env: { ...env(), LONGRUN_TOKEN: user.key, COLUMNS: '200' },
    });
    let terminal = '';
    child.stdout.on('data', (d) => (terminal += d));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    try {
      await eventually(() => terminal.includes('RUNNING'), 30_000, 'the watch to print RUNNING');
      await app.t.revokeKey(user.id); // the server ends the watch with UNAUTHENTICATED
      expect(await exited).toBe(3);
      expect(terminal).toMatch(/RUNNING[^\r\n]*\r?\nlongrun: UNAUTHENTICATED: the API key was revoked\r?\n$/);
    } finally {
      await gql(app.t.url, 'mutation($id: ID!) { cancelJob(id: $id) { job { id } } }', { id });
    }
  });

  it('keys create prints a key alone on the last line; the key works; keys revoke stops it', async () => {
    const withDb = { ...env(), DATABASE_URL: app.t.env.databaseUrl };
    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) =>
        execFile(process.execPath, [BIN, ...args], { env: withDb }, (err, stdout) =>
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout }),
        ),
      );
    const created = await run('keys', 'create', '--owner', 'cli-user');
    expect(created.code).toBe(0);
    const key = created.stdout.trim().split('\n').at(-1)!;
    expect(key).toMatch(/^lr_\S+$/);
    const asUser = (...args: string[]) =>
      new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
        execFile(process.execPath, [BIN, ...args], { env: { ...env(), LONGRUN_TOKEN: key } }, (err, stdout, stderr) =>
          resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr }),
        ),
      );
    expect((await asUser('jobs')).code).toBe(0);
    const id = key.split('_')[1]!;
    expect((await run('keys', 'revoke', id)).code).toBe(0);
    const refused = await asUser('jobs');
    expect(refused.code).toBe(3);
    expect(refused.stderr).toContain('UNAUTHENTICATED');
  });
});
