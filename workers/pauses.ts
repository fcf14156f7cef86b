/**
 * The job types paused by an admin (`pauseJobType`), as this worker knows them: read from PostgreSQL at
 * start and every PAUSES_READ_INTERVAL_MS, and changed at once by each `PauseChange` heard over core NATS.
 * The read catches up with a change this worker did not hear (its NATS connection was down then). Until the
 * first read succeeds every type counts as paused: a worker that cannot read the pauses starts no job.
 */
import type { Subscription } from '@nats-io/nats-core';
import type { Sql } from '../src/db/client.js';
import { pausedTypes } from '../src/db/pauses.js';
import { PAUSES_READ_INTERVAL_MS, type PauseChange } from '../src/jobs/pauses.js';
import type { Logger } from '../src/log.js';
import type { Nats } from '../src/messaging/connect.js';
import type { Names } from '../src/messaging/names.js';

export interface Pauses {
  /** Whether jobs of the type must not be started now. */
  has(type: string): boolean;
  close(): void;
}

/** How soon a read that failed is tried again. */
const RETRY_MS = 1000;

export async function watchPauses(o: { sql: Sql; nats: Nats; names: Names; log: Logger; onChange: (isPaused: (type: string) => boolean) => void }): Promise<Pauses> {
  let paused: Set<string> | null = null; // null: not read yet
  /** Changes heard: a read begun before one may be older than it, and is dropped. */
  let heard = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let failing = false;
  const has = (type: string) => paused === null || paused.has(type);

  const sub: Subscription = o.nats.nc.subscribe(o.names.pausesSubject, {
    callback: (_err, msg) => {
      let change: PauseChange;
      try {
        change = msg.json<PauseChange>();
      } catch {
        return;
      }
      if (typeof change?.type !== 'string' || typeof change.paused !== 'boolean') return;
      heard++;
      if (paused) {
        if (change.paused) paused.add(change.type);
        else paused.delete(change.type);
      }
      o.log.info({ type: change.type }, change.paused ? 'job type paused: starting none of its jobs' : 'job type resumed');
      o.onChange(has);
    },
  });

  async function read(): Promise<void> {
    const before = heard;
    let again = RETRY_MS;
    try {
      const next = await pausedTypes(o.sql);
      // A change heard meanwhile may be newer than this read: the next read has it.
      if (heard === before || !paused) {
        const changed = !paused || next.size !== paused.size || [...next].some((t) => !paused!.has(t));
        paused = next;
        if (changed) o.onChange(has);
      }
      if (heard === before) again = PAUSES_READ_INTERVAL_MS; // else soon, to settle what was heard meanwhile
      failing = false;
    } catch (e) {
      // Once per outage: a PostgreSQL outage would otherwise log this every second.
      if (!failing) o.log.warn({ err: e }, `reading the paused job types failed (PostgreSQL unavailable?); trying again every ${RETRY_MS} ms`);
      failing = true;
    }
    if (!closed) timer = setTimeout(() => void read(), again).unref();
  }
  await read();

  return {
    has,
    close() {
      closed = true;
      clearTimeout(timer);
      sub.unsubscribe();
    },
  };
}
