/**
 * Where `longrun` gets its endpoint and key: `--url`/`--token`, else LONGRUN_URL/LONGRUN_TOKEN. An empty
 * option (`--token "$KEY"` with KEY unset) is bad usage, said so before anything is sent; an empty variable
 * is unset, as the server reads its own settings; a URL that is not an http(s) one is bad usage too; and a
 * request refused for want of a key says how to give one.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/longrun.mjs');

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ handlers: null });
});
afterAll(async () => {
  await t?.dispose();
});

function longrun(args: string[], vars: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  const env = { ...process.env, LONGRUN_URL: t.url, LONGRUN_TOKEN: t.key!, NODE_OPTIONS: '', ...vars };
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], { env }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

describe('longrun, with an empty --token or --url', () => {
  it('refuses it as bad usage (exit 2), naming the option, instead of sending no key and printing the server’s UNAUTHENTICATED', async () => {
    for (const token of ['', '  ']) {
      const r = await longrun(['jobs', '--token', token], {});
      expect(r.stderr).toMatch(/^longrun: --token is empty: give an API key, or leave --token out to use LONGRUN_TOKEN\n\nusage: longrun/);
      expect(r.stdout).toBe('');
      expect(r.code).toBe(2);
    }
    const url = await longrun(['jobs', '--url', ''], {});
    expect(url.stderr).toMatch(/^longrun: --url is empty: give the GraphQL endpoint, or leave --url out to use LONGRUN_URL\n/);
    expect(url.code).toBe(2);
  });
});

describe('longrun, with LONGRUN_TOKEN or LONGRUN_URL set empty', () => {
  it('reads an empty LONGRUN_TOKEN as unset: the refusal says no key was given and how to give one (exit 3)', async () => {
    const unset: NodeJS.ProcessEnv = { ...process.env, LONGRUN_URL: t.url, NODE_OPTIONS: '' };
    delete unset['LONGRUN_TOKEN'];
    const none = await new Promise<string>((resolve) => execFile(process.execPath, [BIN, 'jobs'], { env: unset }, (_e, _o, stderr) => resolve(stderr)));
    const empty = await longrun(['jobs'], { LONGRUN_TOKEN: '' });
    expect(empty.stderr).toBe(none);
    expect(empty.stderr).toBe(
      'longrun: UNAUTHENTICATED: a valid API key is required: send `Authorization: Bearer <key>`\n' +
        'longrun: no API key was given: pass --token KEY or set LONGRUN_TOKEN\n',
    );
    expect(empty.code).toBe(3);
  });

  it('reads an empty LONGRUN_URL as unset: the default endpoint, not an invalid URL ""', async () => {
    const r = await longrun(['jobs'], { LONGRUN_URL: '' });
    expect(r.stderr).not.toContain('ERR_INVALID_URL');
    // Nothing listens there in the tests; were something to, it would answer (this app's key is not its own).
    if (r.code === 3 && r.stderr.includes('NETWORK')) expect(r.stderr).toContain('cannot reach http://localhost:4000/graphql');
  });
});

describe('longrun, with a URL that is not an http(s) one', () => {
  it('refuses it as bad usage (exit 2) in one line, instead of a stack trace and exit 1 (watch) or NETWORK (jobs)', async () => {
    const id = '00000000-0000-4000-8000-000000000000';
    const watch = await longrun(['watch', id, '--url', 'localhost:4000/graphql'], {});
    expect(watch.stderr).toMatch(
      /^longrun: --url or LONGRUN_URL: "localhost:4000\/graphql" is not an http:\/\/ or https:\/\/ URL \(such as http:\/\/localhost:4000\/graphql\)\n\nusage: longrun/,
    );
    expect(watch.code).toBe(2);
    const fragment = await longrun(['watch', id], { LONGRUN_URL: `${t.url}#jobs` });
    expect(fragment.stderr).toMatch(/^longrun: --url or LONGRUN_URL: "http:.*#jobs" has a #fragment\n/);
    expect(fragment.code).toBe(2);
    const jobs = await longrun(['jobs'], { LONGRUN_URL: 'ftp://localhost:4000/graphql' });
    expect(jobs.stderr).toMatch(/^longrun: --url or LONGRUN_URL: "ftp:\/\/localhost:4000\/graphql" is not an http:\/\/ or https:\/\/ URL/);
    expect(jobs.code).toBe(2);
  });
});
