/**
 * Proves the private-service helpers used by fault tests: each server starts, stops (clients then fail),
 * restarts on the same port with its data intact, and disposes of its directory; one whose first port another
 * server holds starts on another port (and is not fooled by the other server answering there).
 */
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { afterAll, describe, expect, test } from 'vitest';
import postgres from 'postgres';
import { connect } from '@nats-io/transport-node';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { freePort, startPrivateNats, startPrivatePostgres, type PrivateNats, type PrivatePostgres } from '../setup/services.js';

async function natsReachable(url: string): Promise<boolean> {
  try {
    const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
    await nc.flush();
    await nc.close();
    return true;
  } catch {
    return false;
  }
}

async function postgresReachable(url: string): Promise<boolean> {
  const sql = postgres(url, { max: 1, connect_timeout: 2, onnotice: () => {} });
  try {
    await sql`select 1`;
    return true;
  } catch {
    return false;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/**
 * Starts a server with `start` whose first picked port another server of `start` holds: it starts on another
 * port, its own (not fooled by the other one answering on the first).
 */
async function expectStartPastHeldPort<S extends PrivateNats | PrivatePostgres>(
  start: (o: { pickPort?: () => Promise<number> }) => Promise<S>,
  reachable: (server: S) => Promise<boolean>,
): Promise<void> {
  const holder = await start({});
  let picked = false;
  const pickPort = async () => {
    if (picked) return freePort();
    picked = true;
    return holder.port;
  };
  try {
    const server = await start({ pickPort });
    try {
      expect(picked).toBe(true);
      expect(server.port).not.toBe(holder.port);
      expect(server.pid).toBeDefined();
      expect(await reachable(server)).toBe(true);
    } finally {
      await server.dispose();
    }
  } finally {
    await holder.dispose();
  }
}

/** Messages in `stream`, read through a fresh connection. */
async function streamMessages(url: string, stream: string): Promise<number> {
  const nc = await connect({ servers: url, timeout: 1000, reconnect: false });
  try {
    const jsm = await jetstreamManager(nc);
    return (await jsm.streams.info(stream)).state.messages;
  } finally {
    await nc.close();
  }
}

test('freePort returns a port that can be bound on 127.0.0.1', async () => {
  const port = await freePort();
  const server = createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(port, '127.0.0.1', resolve));
  await new Promise((resolve) => server.close(resolve));
  expect(port).toBeGreaterThan(0);
});

describe('startPrivateNats', () => {
  let nats: PrivateNats | undefined;
  afterAll(() => nats?.dispose());

  test('kill, restart on the same port with the store intact, dispose', async () => {
    nats = await startPrivateNats();
    expect(nats.url).toBe(`nats://127.0.0.1:${nats.port}`);
    expect(nats.port).not.toBe(4222);
    expect(await natsReachable(nats.url)).toBe(true);

    const nc = await connect({ servers: nats.url });
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: 'PROBE', subjects: ['probe.>'] });
    await jetstream(nc).publish('probe.1', 'x');
    await nc.close();

    const pid = nats.pid;
    await nats.stop('SIGKILL');
    expect(nats.pid).toBeUndefined();
    expect(existsSync(`/proc/${pid}`)).toBe(false);
    expect(await natsReachable(nats.url)).toBe(false);

    await nats.start();
    expect(nats.pid).not.toBe(pid);
    expect(await natsReachable(nats.url)).toBe(true);
    expect(await streamMessages(nats.url, 'PROBE')).toBe(1);

    await nats.restart(); // graceful (SIGTERM) this time
    expect(await streamMessages(nats.url, 'PROBE')).toBe(1);

    const dir = nats.dir;
    await nats.dispose();
    expect(existsSync(dir)).toBe(false);
    expect(await natsReachable(nats.url)).toBe(false);
  });

  test('the first port held by another server: starts on another', () =>
    expectStartPastHeldPort(startPrivateNats, (s) => natsReachable(s.url)));
});

describe('startPrivatePostgres', () => {
  let pg: PrivatePostgres | undefined;
  afterAll(() => pg?.dispose());

  test('crash stop, restart on the same port with the data intact, dispose', async () => {
    pg = await startPrivatePostgres();
    expect(pg.url()).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
    expect(pg.url('x')).toBe(`postgres://postgres@127.0.0.1:${pg.port}/x`);
    expect(pg.port).not.toBe(5432);

    const sql = postgres(pg.url(), { max: 1, onnotice: () => {} });
    await sql`create table probe (id int primary key)`;
    await sql`insert into probe values (1)`;
    await sql.end();

    await pg.stop('immediate');
    expect(pg.pid).toBeUndefined();
    expect(await postgresReachable(pg.url())).toBe(false);

    await pg.start();
    expect(await postgresReachable(pg.url())).toBe(true);
    const again = postgres(pg.url(), { max: 1, onnotice: () => {} });
    expect(await again`select id from probe`).toEqual([{ id: 1 }]);
    await again.end();

    await pg.restart(); // fast shutdown this time
    expect(await postgresReachable(pg.url())).toBe(true);

    const dir = pg.dir;
    await pg.dispose();
    expect(existsSync(dir)).toBe(false);
    expect(await postgresReachable(pg.url())).toBe(false);
  });

  test('the first port held by another server: starts on another', () =>
    expectStartPastHeldPort(startPrivatePostgres, (s) => postgresReachable(s.url())));
});
