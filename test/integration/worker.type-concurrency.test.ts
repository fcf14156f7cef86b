/**
 * Slots per job type: a handler's own `concurrency` (defineHandler's option) caps how many of its jobs one
 * worker process runs at once, instead of WORKER_CONCURRENCY; WORKER_TYPE_CONCURRENCY overrides both for the
 * types it names; the other types keep WORKER_CONCURRENCY. A setting for a type no handler has stops the pool.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJobType } from '../../src/jobs/definition.js';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { loadConfig } from '../../src/config.js';
import { defineHandler } from '../../workers/handler.js';
import { startWorkerPool } from '../../workers/pool.js';
import type { WorkerPool } from '../../workers/runner.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { startTestApp, type TestApp } from '../support/app.js';

const JOBS = 10;
const payload = z.object({});
const narrow = defineJobType({ name: 'test.narrow', description: 'its handler asks for 2 slots', payload });
const wide = defineJobType({ name: 'test.wide', description: 'no concurrency of its own', payload });
const overridden = defineJobType({ name: 'test.overridden', description: 'its handler asks for 2, the setting for 4', payload });
const types = [narrow, wide, overridden];

/** Handlers running now and at most, by type; each waits for the gate. */
const running = new Map<string, number>();
const most = new Map<string, number>();
let openGate!: () => void;
const gate = new Promise<void>((r) => (openGate = r));
const gated = (name: string) => async () => {
  running.set(name, (running.get(name) ?? 0) + 1);
  most.set(name, Math.max(most.get(name) ?? 0, running.get(name)!));
  try {
    await gate;
  } finally {
    running.set(name, running.get(name)! - 1);
  }
};
const handlers = [
  defineHandler(narrow, gated(narrow.name), { concurrency: 2 }),
  defineHandler(wide, gated(wide.name)),
  defineHandler(overridden, gated(overridden.name), { concurrency: 2 }),
];

let t: TestApp;
let pool: WorkerPool | null = null;
beforeAll(async () => {
  t = await startTestApp({
    types: [...BUILTIN_JOB_TYPES, ...types],
    handlers: null,
    config: { WORKER_CONCURRENCY: '6', WORKER_TYPE_CONCURRENCY: 'test.overridden=4', ACK_WAIT_MS: '120000' },
  });
});
afterAll(async () => {
  openGate();
  await pool?.stop(5000);
  await t?.dispose();
});

async function until(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 60_000): Promise<void> {
  for (const deadline = Date.now() + timeoutMs; Date.now() < deadline; await new Promise((r) => setTimeout(r, 50))) {
    if (await check()) return;
  }
  throw new Error(`timed out waiting for: ${what}`);
}

it("runs at most a type's own concurrency at once, the setting's where it names the type, WORKER_CONCURRENCY otherwise", async () => {
  const ids: string[] = [];
  for (const type of types) {
    for (let i = 0; i < JOBS; i++) ids.push((await gql(t.url, SUBMIT, { input: { type: type.name, payload: {} } })).body.data.submitJob.job.id);
  }
  pool = await startWorkerPool(t.config, t.app.deps, handlers);
  expect(pool.concurrency).toEqual({ 'test.narrow': 2, 'test.wide': 6, 'test.overridden': 4 });

  const full = { 'test.narrow': 2, 'test.wide': 6, 'test.overridden': 4 };
  await until(
    'every type to fill its slots',
    () => types.every((ty) => running.get(ty.name) === full[ty.name as keyof typeof full]),
    20_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}; running: ${JSON.stringify(Object.fromEntries(running))}`);
  });
  // What the user sees meanwhile: that many of each type RUNNING, the rest QUEUED.
  await new Promise((r) => setTimeout(r, 500));
  const states = await t.env.sql<{ type: string; state: string; n: number }[]>`
    select type, state, count(*)::int as n from jobs where id = any(${ids}::uuid[]) group by type, state order by type, state`;
  expect(states).toEqual([
    { type: 'test.narrow', state: 'QUEUED', n: 8 },
    { type: 'test.narrow', state: 'RUNNING', n: 2 },
    { type: 'test.overridden', state: 'QUEUED', n: 6 },
    { type: 'test.overridden', state: 'RUNNING', n: 4 },
    { type: 'test.wide', state: 'QUEUED', n: 4 },
    { type: 'test.wide', state: 'RUNNING', n: 6 },
  ]);

  openGate();
  await until('every job to succeed', async () => {
    const [row] = await t.env.sql<{ n: number }[]>`select count(*)::int as n from jobs where id = any(${ids}::uuid[]) and state = 'SUCCEEDED'`;
    return row!.n === ids.length;
  });
  expect(Object.fromEntries(most)).toEqual(full);
});

it('refuses to start with WORKER_TYPE_CONCURRENCY naming a type no handler has, naming it', async () => {
  const config = loadConfig({ ...t.env.env, WORKER_TYPE_CONCURRENCY: 'test.narow=3, test.wide=2' });
  await expect(startWorkerPool(config, t.app.deps, handlers)).rejects.toThrow('WORKER_TYPE_CONCURRENCY names unknown job types: test.narow');
});
