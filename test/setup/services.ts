/**
 * Private nats-server and PostgreSQL instances for tests that kill, pause or restart a service. They run
 * on free loopback ports with their own temporary directories, never touching the machine's shared
 * services. A server that could not bind its port (taken since `freePort` found it free, e.g. by another test
 * file's private server) is started again on another. Each is a direct child of the test process (not
 * detached), restarts on the same port, is stopped by PID only, and is removed in `dispose()`; anything still
 * running when the test process exits is SIGKILLed.
 *
 * @example
 * const nats = await startPrivateNats();
 * await nats.stop('SIGKILL');   // clients now see the server gone
 * await nats.start();           // same port, same store directory
 * await nats.dispose();
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { accessSync, constants, existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import postgres from 'postgres';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';

/** A nats-server with JetStream, private to the calling test file. */
export interface PrivateNats {
  /** `nats://127.0.0.1:PORT` */
  url: string;
  port: number;
  /** The JetStream store directory (`-sd`); kept across restarts. */
  dir: string;
  /** PID of the running server, undefined while stopped. */
  readonly pid: number | undefined;
  /** Starts the server (no-op when running) and waits until JetStream answers. */
  start(): Promise<void>;
  /** Sends `signal` (@default 'SIGTERM') and waits for the exit; SIGKILL after 15 s. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** `stop()` then `start()` on the same port and store. */
  restart(): Promise<void>;
  /** Kills the server and removes its directory. */
  dispose(): Promise<void>;
}

/** A PostgreSQL cluster (trust auth, superuser `postgres`), private to the calling test file. */
export interface PrivatePostgres {
  port: number;
  /** Temporary directory: data/ and the Unix socket; kept across restarts. */
  dir: string;
  /** PID of the postmaster, undefined while stopped. */
  readonly pid: number | undefined;
  /** `postgres://postgres@127.0.0.1:PORT/DB`; database @default 'postgres' */
  url(database?: string): string;
  /** Starts the postmaster (no-op when running) and waits until it accepts queries. */
  start(): Promise<void>;
  /** `fast` (SIGINT) or `immediate` (SIGQUIT, crash-like: recovery on next start) @default 'fast' */
  stop(mode?: 'fast' | 'immediate'): Promise<void>;
  /** `stop()` then `start()` on the same port and data directory. */
  restart(): Promise<void>;
  /** Stops the cluster immediately and removes its directory. */
  dispose(): Promise<void>;
}

const STOP_TIMEOUT_MS = 15_000;
const READY_TIMEOUT_MS = 30_000;
/** Ports a private server tries before its start fails (each a new one when the last was in use). */
const PORT_ATTEMPTS = 5;
/** Servers still running, with the directory to remove; one map per process (vitest re-imports per file). */
const RUNNING: unique symbol = Symbol.for('longrun.test.services.running');
const registry = globalThis as { [RUNNING]?: Map<ChildProcess, string> };
const running = registry[RUNNING] ?? createRegistry();

function createRegistry(): Map<ChildProcess, string> {
  const map = new Map<ChildProcess, string>();
  registry[RUNNING] = map;
  const killAll = () => {
    for (const [child, dir] of map) {
      child.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
    }
  };
  process.on('exit', killAll);
  // vitest stops its fork workers with SIGTERM (then SIGKILL), which skips 'exit' handlers.
  process.once('SIGTERM', () => {
    killAll();
    if (process.listenerCount('SIGTERM') === 0) process.kill(process.pid, 'SIGTERM');
  });
  return map;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const hasExited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;
const isRunning = (child: ChildProcess | undefined): child is ChildProcess => !!child && !hasExited(child);

/** A TCP port that was free on 127.0.0.1 a moment ago. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/** Where a private server's first start gets its port. */
interface PortChoice {
  /** Picks the port to try (again after one in use). @default freePort */
  pickPort?: () => Promise<number>;
}

/**
 * `start(port)` on a picked port; on a new one (up to PORT_ATTEMPTS) when the server failed because that
 * port was in use: a port `freePort` found free is only free until something binds it.
 */
async function onFreePort<T>(pickPort: () => Promise<number>, start: (port: number) => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    const port = await pickPort();
    try {
      return await start(port);
    } catch (e) {
      if (attempt === PORT_ATTEMPTS || !(e instanceof Error && /address already in use/i.test(e.message))) throw e;
    }
  }
}

function findBinary(name: string, dirs: string[] = []): string {
  for (const dir of [...dirs, ...(process.env.PATH ?? '').split(delimiter)]) {
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* next */
    }
  }
  throw new Error(`${name} is not installed (looked in ${dirs.join(', ')} and PATH)`);
}

/** Spawns a long-running server as our direct child, keeping the tail of its output for error messages. */
function spawnServer(command: string, args: string[], dir: string, user?: { uid: number; gid: number }) {
  const child = spawn(command, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], detached: false, ...user });
  let tail = '';
  const keep = (chunk: Buffer) => (tail = (tail + chunk.toString()).slice(-2000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  child.once('error', (e) => keep(Buffer.from(`spawn failed: ${e.message}\n`)));
  running.set(child, dir);
  child.once('exit', () => running.delete(child));
  return { child, output: () => tail.trim() };
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (!isRunning(child)) return true;
  const exited = new Promise<boolean>((r) => child.once('exit', () => r(true)));
  return Promise.race([exited, sleep(timeoutMs).then(() => !isRunning(child))]);
}

async function stopChild(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!isRunning(child)) return;
  child.kill(signal);
  if (await waitForExit(child, STOP_TIMEOUT_MS)) return;
  child.kill('SIGKILL');
  await waitForExit(child, 5000);
}

/**
 * Calls `probe` until it resolves; fails early if the server exited (with its output: the reason it gave, such
 * as an address in use), or after READY_TIMEOUT_MS. The probe must check that the server answering is this
 * one: a server that could not bind its port leaves it to whichever server holds it.
 */
async function waitUntilReady(what: string, child: ChildProcess, output: () => string, probe: () => Promise<unknown>) {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    if (hasExited(child)) throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${output()}`);
    try {
      await probe();
      return;
    } catch (e) {
      last = e;
      await sleep(100);
    }
  }
  await stopChild(child, 'SIGKILL');
  throw new Error(`${what} not ready after ${READY_TIMEOUT_MS / 1000} s (${String(last)}): ${output()}`);
}

/** Starts a nats-server with JetStream on a free port and a temporary store directory (and a `max_payload`, if given). */
export async function startPrivateNats(o: { maxPayload?: number } & PortChoice = {}): Promise<PrivateNats> {
  return onFreePort(o.pickPort ?? freePort, (port) => startNatsOn(port, o.maxPayload));
}

/** A nats-server on `port` with a store directory of its own (removed again if it does not start). */
async function startNatsOn(port: number, maxPayload: number | undefined): Promise<PrivateNats> {
  const bin = findBinary('nats-server', ['/usr/sbin', '/usr/local/sbin']);
  const dir = await mkdtemp(join(tmpdir(), 'longrun-nats-'));
  const name = basename(dir); // tells this server from one that holds the port
  const url = `nats://127.0.0.1:${port}`;
  let child: ChildProcess | undefined;

  const jetStreamAnswers = async () => {
    const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
    try {
      if (nc.info?.server_name !== name) throw new Error(`another server answers on ${port}: ${nc.info?.server_name}`);
      await (await jetstreamManager(nc, { timeout: 1000 })).getAccountInfo();
    } finally {
      await nc.close();
    }
  };

  const nats: PrivateNats = {
    url,
    port,
    dir,
    get pid() {
      return isRunning(child) ? child.pid : undefined;
    },
    async start() {
      if (isRunning(child)) return;
      const config = maxPayload === undefined ? [] : ['-c', join(dir, 'nats.conf')];
      if (config.length) await writeFile(join(dir, 'nats.conf'), `max_payload: ${maxPayload}\n`);
      const args = ['-a', '127.0.0.1', '-p', String(port), '--server_name', name, '-js', '-sd', dir, ...config];
      const server = spawnServer(bin, args, dir);
      child = server.child;
      await waitUntilReady(`nats-server on ${port}`, server.child, server.output, jetStreamAnswers);
    },
    async stop(signal = 'SIGTERM') {
      await stopChild(child, signal);
    },
    async restart() {
      await nats.stop();
      await nats.start();
    },
    async dispose() {
      await stopChild(child, 'SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await nats.start();
  } catch (e) {
    await nats.dispose();
    throw e;
  }
  return nats;
}

function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => /^\d+$/.test(v)) : [];
  const dirs = versions.sort((a, b) => Number(b) - Number(a)).map((v) => join(base, v, 'bin'));
  const initdb = findBinary('initdb', dirs);
  return initdb.slice(0, -'/initdb'.length);
}

/** uid/gid of `postgres` when we are root: PostgreSQL refuses to run as root. */
function postgresUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('running as root and there is no "postgres" user to run PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

/**
 * initdb in a temporary directory, then starts the cluster on a free port (fsync off, loopback only).
 * @param o.settings further server settings (`name=value`, each passed as `-c`), e.g. a preloaded library
 */
export async function startPrivatePostgres(o: { settings?: readonly string[] } & PortChoice = {}): Promise<PrivatePostgres> {
  const bin = postgresBinDir();
  const user = postgresUser();
  const dir = await mkdtemp(join(tmpdir(), 'longrun-pg-'));
  const data = join(dir, 'data');
  const initdbArgs = ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'];
  try {
    if (user) await chown(dir, user.uid, user.gid);
    await promisify(execFile)(join(bin, 'initdb'), initdbArgs, { cwd: dir, timeout: 120_000, ...user });
    return await onFreePort(o.pickPort ?? freePort, (port) => startPostgresOn(port, { bin, user, dir, settings: o.settings ?? [] }));
  } catch (e) {
    await rm(dir, { recursive: true, force: true });
    throw e;
  }
}

/** The cluster initdb made in `c.dir`, started on `port` (stopped again if it does not start). */
async function startPostgresOn(
  port: number,
  c: { bin: string; user: { uid: number; gid: number } | undefined; dir: string; settings: readonly string[] },
): Promise<PrivatePostgres> {
  const { bin, user, dir } = c;
  const data = join(dir, 'data');
  const name = basename(dir); // tells this cluster from one that holds the port
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let child: ChildProcess | undefined;

  const acceptsQueries = async () => {
    const sql = postgres(url(), { max: 1, connect_timeout: 2, onnotice: () => {} });
    try {
      const [row] = await sql<{ name: string }[]>`select current_setting('cluster_name') as name`;
      if (row?.name !== name) throw new Error(`another server answers on ${port}: ${row?.name}`);
    } finally {
      await sql.end({ timeout: 1 });
    }
  };

  const pg: PrivatePostgres = {
    port,
    dir,
    url,
    get pid() {
      return isRunning(child) ? child.pid : undefined;
    },
    async start() {
      if (isRunning(child)) return;
      const settings = ['listen_addresses=127.0.0.1', 'fsync=off', `cluster_name=${name}`, ...c.settings].flatMap((s) => ['-c', s]);
      const server = spawnServer(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, ...settings], dir, user);
      child = server.child;
      await waitUntilReady(`postgres on ${port}`, server.child, server.output, acceptsQueries);
    },
    async stop(mode = 'fast') {
      await stopChild(child, mode === 'immediate' ? 'SIGQUIT' : 'SIGINT');
    },
    async restart() {
      await pg.stop();
      await pg.start();
    },
    async dispose() {
      await pg.stop('immediate');
      await rm(dir, { recursive: true, force: true });
    },
  };
  try {
    await pg.start();
  } catch (e) {
    await pg.stop('immediate');
    throw e;
  }
  return pg;
}
