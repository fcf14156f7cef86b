/**
 * Gauges read at scrape time from the shared state they describe: queue depth per job type (the worker
 * consumer's pending + ack-pending), the dead-letter stream's size, the outbox backlog and its oldest
 * entry's age, the paused job types (each one paused, defined or not, and 0 for the others defined), the
 * schedules (active and paused) and how late the most overdue one is, and this process's graphql-ws connections
 * and subscriptions. A source that cannot be read (NATS or PostgreSQL down) within 1.5 s
 * leaves its gauge out of that scrape instead of failing or stalling it.
 */
import { Gauge, Registry } from 'prom-client';
import { orAfter } from '../deadline.js';
import type { Sql } from '../db/client.js';
import { outboxBacklog } from '../db/outbox.js';
import { pausedTypes } from '../db/pauses.js';
import { scheduleStats } from '../db/schedules.js';
import type { Logger } from '../log.js';
import type { Nats } from '../messaging/connect.js';
import type { Names } from '../messaging/names.js';
import { registry } from './metrics.js';

export interface ScrapeSources {
  nats: Nats;
  names: Names;
  /** Job types whose queue depth to report. */
  types: readonly string[];
  /** For the outbox gauges (the API process). */
  sql?: Sql;
  /** graphql-ws counts (the API process). */
  ws?: () => { connections: number; subscriptions: number };
  log: Logger;
}

/** How long a scrape waits for one source (NATS down must not stall the scrape). */
const READ_TIMEOUT_MS = 1500;

/**
 * `read` shared by the gauges one statement answers: the first gauge of a scrape to ask starts it, the others
 * of that scrape get its answer.
 */
function sharedRead<T>(read: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | null = null;
  return () => (pending ??= read().finally(() => setImmediate(() => (pending = null))));
}

/**
 * Empties a gauge without labels before its read: prom-client's `reset` leaves such a gauge at 0, and a read
 * that fails or times out would leave that 0 standing ("no backlog", "no lag") where the scrape should have no
 * sample of it. (A labelled gauge's `reset` leaves none.)
 */
function clear(g: Gauge): void {
  g.reset();
  g.remove();
}

/** A registry of this process's scrape-time gauges. */
export function scrapeRegistry(s: ScrapeSources): Registry {
  const r = new Registry();
  const quietly = async (what: string, fn: () => Promise<void>) => {
    const failure = await orAfter(fn().then(() => null, (e: unknown) => e), READ_TIMEOUT_MS, new Error(`no answer in ${READ_TIMEOUT_MS} ms`));
    if (failure !== null) s.log.debug({ err: failure, what }, 'metrics: a gauge could not be read');
  };
  new Gauge({
    name: 'longrun_queue_depth',
    help: 'Job messages waiting or in flight per type (worker consumer num_pending + num_ack_pending).',
    labelNames: ['type'],
    registers: [r],
    async collect() {
      this.reset();
      await Promise.all(
        s.types.map((type) =>
          quietly('queue depth', async () => {
            const info = await s.nats.jsm.consumers.info(s.names.jobsStream, s.names.workerConsumer(type));
            this.set({ type }, info.num_pending + info.num_ack_pending);
          }),
        ),
      );
    },
  });
  new Gauge({
    name: 'longrun_dead_letter_messages',
    help: 'Messages in the dead-letter stream.',
    registers: [r],
    async collect() {
      clear(this);
      await quietly('dead letters', async () => this.set((await s.nats.jsm.streams.info(s.names.deadLetterStream)).state.messages));
    },
  });
  if (s.sql) {
    const sql = s.sql;
    const backlog = sharedRead(() => outboxBacklog(sql));
    new Gauge({
      name: 'longrun_outbox_backlog',
      help: 'Outbox entries committed but not yet published to JetStream.',
      registers: [r],
      async collect() {
        clear(this);
        await quietly('outbox', async () => this.set((await backlog()).count));
      },
    });
    new Gauge({
      name: 'longrun_outbox_oldest_age_seconds',
      help: 'Age of the oldest unpublished outbox entry (0 when none).',
      registers: [r],
      async collect() {
        clear(this);
        await quietly('outbox', async () => this.set((await backlog()).oldestAgeMs / 1000));
      },
    });
    new Gauge({
      name: 'longrun_job_type_paused',
      help: 'Whether the job type is paused (pauseJobType): 1, else 0. A paused type no process defines any more is reported too (1), until resumeJobType.',
      labelNames: ['type'],
      registers: [r],
      async collect() {
        this.reset();
        await quietly('paused types', async () => {
          const paused = await pausedTypes(sql);
          for (const type of new Set([...s.types, ...paused])) this.set({ type }, paused.has(type) ? 1 : 0);
        });
      },
    });
    const schedules = sharedRead(() => scheduleStats(sql));
    new Gauge({
      name: 'longrun_schedules',
      help: 'Schedules (recurring jobs) of every owner, by state (active, paused).',
      labelNames: ['state'],
      registers: [r],
      async collect() {
        this.reset();
        await quietly('schedules', async () => {
          const { active, paused } = await schedules();
          this.set({ state: 'active' }, active);
          this.set({ state: 'paused' }, paused);
        });
      },
    });
    new Gauge({
      name: 'longrun_schedule_lag_seconds',
      help: 'How late the most overdue active schedule is: now minus the oldest next run time at or before now, by PostgreSQL\'s clock (0 when none is due). Healthy: under about RELAY_INTERVAL_MS.',
      registers: [r],
      async collect() {
        clear(this);
        await quietly('schedules', async () => this.set((await schedules()).lagSeconds));
      },
    });
  }
  if (s.ws) {
    const ws = s.ws;
    new Gauge({ name: 'longrun_graphql_ws_connections', help: 'Open graphql-ws connections.', registers: [r], collect() { this.set(ws().connections); } });
    new Gauge({ name: 'longrun_graphql_ws_subscriptions', help: 'Active graphql-ws operations (subscriptions).', registers: [r], collect() { this.set(ws().subscriptions); } });
  }
  return r;
}

export interface MetricsText {
  contentType: string;
  body: string;
}

/**
 * The Prometheus text of the process registry plus `extra`, as a function to call per scrape. A scrape that
 * arrives while another is being rendered shares that one's answer (single-flight): however many scrapers, a
 * process reads NATS and PostgreSQL for one scrape at a time, and two scrapes never run the gauges'
 * `collect` (reset, then set) over each other.
 */
export function metricsRenderer(extra: Registry): () => Promise<MetricsText> {
  let rendering: Promise<MetricsText> | null = null;
  const render = async (): Promise<MetricsText> => {
    const merged = Registry.merge([registry, extra]);
    return { contentType: merged.contentType, body: await merged.metrics() };
  };
  return () => (rendering ??= render().finally(() => (rendering = null)));
}
