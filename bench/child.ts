/**
 * A forked bench process (API or worker) with an IPC mailbox: `wait(type)` resolves with the next message
 * of that type. Only this process's own children are ever signalled, by PID.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { now } from './jobs.js';

export interface Child {
  readonly pid: number;
  readonly proc: ChildProcess;
  send(m: object): void;
  wait<T = Record<string, unknown>>(type: string, timeoutMs?: number): Promise<T>;
  /** Child clock − our clock, from the ping with the smallest round trip. */
  clockOffset(): Promise<{ offsetMs: number; rttMs: number }>;
  /** Asks it to stop (message, then SIGTERM, then SIGKILL) and waits for the exit. */
  stop(how?: 'message' | 'signal'): Promise<void>;
}

export interface ForkOptions {
  file: string;
  env: Record<string, string>;
  /** Extra node flags, e.g. `--cpu-prof`. */
  nodeArgs?: string[];
  name: string;
}

export function forkChild(o: ForkOptions): Child {
  const proc = fork(fileURLToPath(new URL(o.file, import.meta.url)), [], {
    env: { ...process.env, ...o.env },
    execArgv: ['--import', 'tsx', ...(o.nodeArgs ?? [])],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: Record<string, unknown>[] = [];
  const waiters: { type: string; resolve: (m: any) => void; reject: (e: Error) => void }[] = [];
  let exited = false;
  const exit = new Promise<void>((resolve) =>
    proc.once('exit', (code, signal) => {
      exited = true;
      for (const w of waiters.splice(0)) w.reject(new Error(`${o.name} exited (${code ?? signal}) while we waited for ${w.type}`));
      resolve();
    }),
  );
  proc.on('message', (m: Record<string, unknown>) => {
    const i = waiters.findIndex((w) => w.type === m.type);
    if (i >= 0) waiters.splice(i, 1)[0]!.resolve(m);
    else inbox.push(m);
  });

  const child: Child = {
    pid: proc.pid!,
    proc,
    send: (m) => proc.send(m),
    wait(type, timeoutMs = 60_000) {
      const i = inbox.findIndex((m) => m.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0] as any);
      if (exited) return Promise.reject(new Error(`${o.name} has exited; wanted ${type}`));
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${o.name}: no ${type} within ${timeoutMs} ms`)), timeoutMs);
        waiters.push({
          type,
          resolve: (m) => (clearTimeout(t), resolve(m)),
          reject: (e) => (clearTimeout(t), reject(e)),
        });
      });
    },
    async clockOffset() {
      let best = { offsetMs: 0, rttMs: Infinity };
      for (let id = 0; id < 15; id++) {
        const t0 = now();
        proc.send({ type: 'ping', id });
        const pong = await child.wait<{ t: number }>('pong', 5000);
        const t1 = now();
        if (t1 - t0 < best.rttMs) best = { offsetMs: pong.t - (t0 + t1) / 2, rttMs: t1 - t0 };
      }
      return best;
    },
    async stop(how = 'message') {
      if (exited) return;
      if (how === 'message' && proc.connected) proc.send({ type: 'stop' });
      else proc.kill('SIGTERM');
      const killer = setTimeout(() => proc.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(killer);
    },
  };
  return child;
}
