/**
 * PostgreSQL and NATS for `npm start` (scripts/start.mjs) and `npm test` (scripts/test.mjs), using only Node
 * built-ins (it runs before `npm install`): the configured servers when reachable; otherwise, for a loopback
 * address, private instances under .data/ (they keep running after the command exits and are reused next
 * time; the ports are remembered in .data/ports.json).
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync, accessSync, constants } from 'node:fs';
import { connect, createServer } from 'node:net';
import { delimiter, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readDatabaseUrl } from './database-url.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DATA = join(ROOT, '.data');
const PORTS_FILE = join(DATA, 'ports.json');
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1', '[::1]']);

const say = (line) => console.log(`longrun: ${line}`);
const rel = (p) => relative(process.cwd(), p) || '.';
function fail(line) {
  console.error(`longrun: ${line}`);
  process.exit(1);
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------- network and binaries

/** Resolves true when host:port accepts a TCP connection within timeoutMs. */
function probe(host, port, timeoutMs = 1000) {
  return new Promise((done) => {
    const socket = connect({ host: host.replace(/^\[|\]$/g, ''), port });
    const finish = (ok) => {
      socket.destroy();
      done(ok);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Resolves true when nothing listens on 127.0.0.1:port (we can bind it). */
function portIsFree(port) {
  return new Promise((done) => {
    const server = createServer();
    server.once('error', () => done(false));
    server.listen(port, '127.0.0.1', () => server.close(() => done(true)));
  });
}

async function freePortFrom(start, preferred) {
  if (preferred && (await portIsFree(preferred))) return preferred;
  for (let port = start; port < start + 200; port++) if (await portIsFree(port)) return port;
  fail(`no free port in ${start}-${start + 199}`);
}

function findBinary(name, dirs = []) {
  for (const dir of [...dirs, ...(process.env.PATH ?? '').split(delimiter)]) {
    if (!dir) continue;
    const path = join(dir, name);
    try {
      accessSync(path, constants.X_OK);
      return path;
    } catch {
      /* next */
    }
  }
  return undefined;
}

function postgresBinDirs() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return [];
  return readdirSync(base)
    .filter((v) => /^\d+(\.\d+)?$/.test(v))
    .sort((a, b) => Number(b) - Number(a))
    .map((v) => join(base, v, 'bin'));
}

function readPorts() {
  try {
    return JSON.parse(readFileSync(PORTS_FILE, 'utf8'));
  } catch {
    return {};
  }
}

function rememberPort(service, port) {
  mkdirSync(DATA, { recursive: true });
  writeFileSync(PORTS_FILE, `${JSON.stringify({ ...readPorts(), [service]: port }, null, 2)}\n`);
}

function pidAlive(pid) {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return e.code === 'EPERM';
  }
}

// ---------------------------------------------------------------- PostgreSQL

/** uid/gid of the `postgres` user when we run as root (PostgreSQL refuses to run as root). */
function postgresUser() {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) fail('running as root and there is no "postgres" user to run a private PostgreSQL as');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function runAs(user, command, args, timeoutMs) {
  const opts = { cwd: DATA, encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] };
  const r = spawnSync(command, args, user ? { ...opts, uid: user.uid, gid: user.gid } : opts);
  if (r.status !== 0) {
    const why = r.error?.message ?? (r.signal ? `killed by ${r.signal} (timeout ${timeoutMs / 1000} s?)` : `exit ${r.status}`);
    const tail = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-3).join(' | ');
    fail(`${command.split('/').pop()} ${args[0] ?? ''} failed: ${why}${tail ? `: ${tail}` : ''}`);
  }
  return r;
}

/** Port of the private cluster when its postmaster is alive and listening, else undefined. */
async function runningClusterPort(dataDir) {
  try {
    const lines = readFileSync(join(dataDir, 'postmaster.pid'), 'utf8').split('\n');
    const pid = Number(lines[0]);
    const port = Number(lines[3]);
    return pidAlive(pid) && (await probe('127.0.0.1', port)) ? port : undefined;
  } catch {
    return undefined;
  }
}

async function privatePostgres(dbName) {
  const binDir = dirname(findBinary('initdb', postgresBinDirs()));
  const user = postgresUser();
  const dataDir = join(DATA, 'postgres');
  const socketDir = join(DATA, 'run');
  const logFile = join(DATA, 'postgres.log');
  const own = (path) => user && chownSync(path, user.uid, user.gid);
  mkdirSync(dataDir, { recursive: true });
  mkdirSync(socketDir, { recursive: true });
  if (!existsSync(logFile)) writeFileSync(logFile, '');
  [dataDir, socketDir, logFile].forEach(own);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    say(`creating a private PostgreSQL cluster in ${rel(dataDir)}`);
    runAs(user, join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync'], 120_000);
  }
  let port = await runningClusterPort(dataDir);
  if (port) {
    say(`reusing the private PostgreSQL on 127.0.0.1:${port} (${rel(dataDir)})`);
  } else {
    port = await freePortFrom(54329, readPorts().postgres);
    // Unix socket paths are limited to ~107 bytes; without room, listen on TCP only.
    const sockets = join(socketDir, `.s.PGSQL.${port}`).length < 100 ? socketDir : '';
    const options = `-p ${port} -k "${sockets}" -c listen_addresses=127.0.0.1`;
    runAs(user, join(binDir, 'pg_ctl'), ['start', '-D', dataDir, '-l', logFile, '-w', '-t', '60', '-o', options], 90_000);
    const stop = `${user ? 'runuser -u postgres -- ' : ''}${join(binDir, 'pg_ctl')} stop -D ${rel(dataDir)}`;
    say(`started a private PostgreSQL on 127.0.0.1:${port}; it keeps running after longrun exits (stop: ${stop}; log: ${rel(logFile)})`);
  }
  rememberPort('postgres', port);
  return `postgres://postgres@127.0.0.1:${port}/${encodeURIComponent(dbName)}`;
}

/**
 * What can be probed of a DATABASE_URL (database-url.mjs): its TCP addresses (several for
 * `postgres://h1:5432,h2:5432/db`, which the driver tries in turn) and its database. None when it names a
 * Unix socket (`?host=/run/postgresql`, or no host with PGHOST set) or does not parse here: the app reads it.
 */
function postgresTarget(raw, pghost) {
  try {
    const { hosts, database, params } = readDatabaseUrl(raw);
    if (params.has('host') || (!hosts.length && pghost)) return { addresses: [], database: database || 'longrun' };
    const addresses = (hosts.length ? hosts : ['127.0.0.1']).map((h) => {
      const one = new URL(`postgres://${h}`);
      return { host: one.hostname || '127.0.0.1', port: Number(one.port || 5432) };
    });
    return { addresses, database: database || 'longrun' };
  } catch {
    return { addresses: [], database: 'longrun' };
  }
}

/** Sets env.DATABASE_URL to a private instance (same database name) when the configured server is unreachable. */
export async function ensurePostgres(env) {
  // Blanks alone count as unset, as in src/config.ts.
  const { addresses, database } = postgresTarget(env.DATABASE_URL?.trim() || 'postgres://postgres@127.0.0.1:5432/longrun', env.PGHOST);
  if (!addresses.length) return say('DATABASE_URL names no TCP address to probe (a Unix socket?): passed to longrun as it is');
  for (const { host, port } of addresses) {
    if (await probe(host, port)) return say(`PostgreSQL reachable at ${host}:${port}`);
  }
  const shown = addresses.map((a) => `${a.host}:${a.port}`).join(', ');
  const initdb = findBinary('initdb', postgresBinDirs());
  if (!addresses.some((a) => LOOPBACK.has(a.host))) fail(`PostgreSQL is not reachable at ${shown}; start it or fix DATABASE_URL`);
  if (!initdb) fail(`PostgreSQL is not reachable at ${shown} and is not installed; install it (apt-get install postgresql) or set DATABASE_URL`);
  say(`PostgreSQL is not reachable at ${shown}: using a private instance`);
  env.DATABASE_URL = await privatePostgres(database);
}

// ---------------------------------------------------------------- NATS

/** The TCP addresses of a NATS_URL list; none when an entry does not parse here (`nats://:4222`): the app reads it. */
function natsAddresses(list) {
  try {
    return list
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
      .map((s) => {
        const url = new URL(s.includes('://') ? s : `nats://${s}`);
        const fallback = { 'ws:': 80, 'wss:': 443 }[url.protocol] ?? 4222;
        return { host: url.hostname || '127.0.0.1', port: Number(url.port || fallback) };
      });
  } catch {
    return [];
  }
}

async function waitForPort(port, child, logFile, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) break;
    if (await probe('127.0.0.1', port, 500)) return;
    await sleep(100);
  }
  const tail = existsSync(logFile) ? readFileSync(logFile, 'utf8').trim().split('\n').slice(-2).join(' | ') : '';
  fail(`nats-server did not accept connections on 127.0.0.1:${port} within ${timeoutMs / 1000} s${tail ? `: ${tail}` : ''}`);
}

async function privateNats(natsServer) {
  const storeDir = join(DATA, 'nats');
  const logFile = join(DATA, 'nats.log');
  const pidFile = join(DATA, 'nats.pid');
  const remembered = readPorts().nats;
  const pid = existsSync(pidFile) ? Number(readFileSync(pidFile, 'utf8')) : 0;
  if (remembered && pidAlive(pid) && (await probe('127.0.0.1', remembered))) {
    say(`reusing the private NATS on 127.0.0.1:${remembered} (${rel(storeDir)})`);
    return `nats://127.0.0.1:${remembered}`;
  }
  mkdirSync(storeDir, { recursive: true });
  const port = await freePortFrom(42229, remembered);
  const args = ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', storeDir, '-l', logFile, '-P', pidFile];
  const child = spawn(natsServer, args, { cwd: DATA, detached: true, stdio: 'ignore' });
  child.unref();
  await waitForPort(port, child, logFile, 10_000);
  rememberPort('nats', port);
  say(`started a private NATS on 127.0.0.1:${port} (pid ${child.pid}); it keeps running after longrun exits (stop: kill $(cat ${rel(pidFile)}); log: ${rel(logFile)})`);
  return `nats://127.0.0.1:${port}`;
}

/** Sets env.NATS_URL to a private instance when none of the configured servers is reachable. */
export async function ensureNats(env) {
  const addresses = natsAddresses(env.NATS_URL?.trim() || 'nats://127.0.0.1:4222'); // blanks alone: unset
  if (!addresses.length) return say('NATS_URL names an address that cannot be probed: passed to longrun as it is');
  for (const { host, port } of addresses) {
    if (await probe(host, port)) return say(`NATS reachable at ${host}:${port}`);
  }
  const shown = addresses.map((a) => `${a.host}:${a.port}`).join(', ');
  const natsServer = findBinary('nats-server', ['/usr/sbin', '/usr/local/sbin']);
  if (!addresses.some((a) => LOOPBACK.has(a.host))) fail(`NATS is not reachable at ${shown}; start it or fix NATS_URL`);
  if (!natsServer) fail(`NATS is not reachable at ${shown} and is not installed; install it (apt-get install nats-server) or set NATS_URL`);
  say(`NATS is not reachable at ${shown}: using a private instance`);
  env.NATS_URL = await privateNats(natsServer);
}
