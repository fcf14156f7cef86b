/**
 * Runs the CLI (`bin/longrun.mjs`) as a user does, in a child process, against `url` with `token`.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';

export const CLI_BIN = path.resolve(import.meta.dirname, '../../bin/longrun.mjs');

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** The CLI's exit code and output, with LONGRUN_URL and LONGRUN_TOKEN set (and `env` over them). */
export function runCli(url: string, token: string, args: readonly string[], env: Record<string, string> = {}): Promise<CliRun> {
  const vars = { ...process.env, LONGRUN_URL: url, LONGRUN_TOKEN: token, NODE_OPTIONS: '', ...env };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { env: vars }, (err, stdout, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code ?? 1) : 0, stdout, stderr });
    });
  });
}
