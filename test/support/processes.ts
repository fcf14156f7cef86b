/**
 * longrun processes for tests that kill them: an API (`src/main.ts`) or a worker (`workers/main.ts`) as a
 * child process with the test's environment. Output is kept for assertions and failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface LongrunProcess {
  child: ChildProcess;
  /** The API's GraphQL URL (API processes only). */
  url: string;
  output(): string;
  /** Resolves with the exit code/signal. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const children = new Set<ChildProcess>();
const killAll = () => {
  for (const c of children) c.kill('SIGKILL');
};
process.on('exit', killAll);
// vitest ends its fork workers with SIGTERM (and 'exit' handlers do not run then).
process.once('SIGTERM', () => {
  killAll();
  process.kill(process.pid, 'SIGTERM');
});

/** `node <args>` (an entry: `--import tsx <entry>`), ready once its output matches `ready`. */
async function spawnLongrun(entry: string, args: string[], env: Record<string, string>, ready: RegExp): Promise<LongrunProcess> {
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => {
      children.delete(child);
      resolve({ code, signal });
    }),
  );
  const match = await new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${entry} did not start in 120 s:\n${out}`));
    }, 120_000);
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = out.match(ready);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${entry} exited before it was ready:\n${out}`));
    });
  });
  return {
    child,
    url: match[1] ?? '',
    output: () => out,
    exited,
    async kill(signal = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** Runs an entry (`src/main.ts`, `workers/main.ts`) with the test's environment to its end: a start expected to fail. */
export function runToExit(entry: string, env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      children.delete(child);
      resolve({ code, stderr });
    }),
  );
}

// Authentication is not what these processes are for: off unless the test says otherwise.
const API_ENV = { PORT: '0', HOST: '127.0.0.1', WORKER_CONCURRENCY: '0', LONGRUN_AUTH: 'off' };

/**
 * An API process (no workers unless WORKER_CONCURRENCY is set in env). `withEffects` runs the test entry
 * that also knows the `test.effect` job type.
 */
export function spawnApi(env: Record<string, string>, o: { withEffects?: boolean } = {}): Promise<LongrunProcess> {
  const entry = o.withEffects ? 'test/support/entries/api.ts' : 'src/main.ts';
  return spawnLongrun(entry, ['--import', 'tsx', entry], { ...API_ENV, ...env }, /GraphiQL: (\S+)/);
}

/**
 * An API process (`src/main.ts`) started as `npm start` starts it (scripts/launch.mjs, its last step): the
 * process is the wrapper; the API is its child, in a process group of its own.
 */
export function spawnApiThroughWrapper(env: Record<string, string>): Promise<LongrunProcess> {
  const wrapper = "import { launch } from './scripts/launch.mjs'; launch('src/main.ts', [], process.env, (l) => console.log(`longrun: ${l}`));";
  return spawnLongrun('scripts/launch.mjs', ['--input-type=module', '-e', wrapper], { ...API_ENV, ...env }, /GraphiQL: (\S+)/);
}

/**
 * A worker process (`withEffects`: also runs `test.effect`; `clockAhead`: also runs `test.soon`, its clock
 * `CLOCK_AHEAD_MS` ahead of the machine's).
 */
export function spawnWorker(env: Record<string, string>, o: { withEffects?: boolean; clockAhead?: boolean } = {}): Promise<LongrunProcess> {
  const entry = o.clockAhead ? 'test/support/entries/worker-clock-ahead.ts' : o.withEffects ? 'test/support/entries/worker.ts' : 'workers/main.ts';
  return spawnLongrun(entry, ['--import', 'tsx', entry], { METRICS_PORT: '0', ...env }, /longrun worker started/);
}
