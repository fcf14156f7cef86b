/**
 * Step 4 of `npm start` and `npm run worker` (scripts/start.mjs): `node --import tsx <entry> [args...]` in a
 * process group of its own, forwarding SIGINT/SIGTERM/SIGHUP to it and exiting with its code. Node built-ins
 * only (it runs before `npm install`).
 */
import { spawn } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `entry` as a child and lives as long as it does, ending as it ends. @param {(line: string) => void} say */
export function launch(entry, args, env, say) {
  say(`starting ${entry}`);
  // Own process group: a terminal Ctrl-C reaches only us (and npm, which forwards it to us too), so the app
  // sees each signal once, from us. And an IPC channel, which the app watches (src/process.ts): should we die
  // without forwarding a signal (SIGKILL), it closes, and the app stops as on SIGTERM rather than run on.
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(entry), ...args], {
    cwd: ROOT,
    env,
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    detached: true,
  });
  let last = { signal: '', at: 0 };
  const forward = (signal) => {
    const now = Date.now();
    if (signal === last.signal && now - last.at < 300) return; // the same Ctrl-C via the tty and via npm
    if (last.at) say(`${signal} again: forwarded (the app decides whether to force its exit)`);
    else say(`${signal}: forwarded; waiting for the app to shut down (send it again to force)`);
    last = { signal, at: now };
    child.kill(signal === 'SIGHUP' ? 'SIGTERM' : signal);
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, forward);
  child.once('error', (e) => {
    console.error(`longrun: cannot start ${entry}: ${e.message}`);
    process.exit(1);
  });
  child.once('exit', (code, signal) => {
    if (signal) {
      for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.removeAllListeners(s);
      process.kill(process.pid, signal); // die the same way, so callers see the signal
      setTimeout(() => process.exit(1), 1000).unref();
    } else {
      process.exit(code ?? 1);
    }
  });
}
