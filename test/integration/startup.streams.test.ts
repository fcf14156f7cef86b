/**
 * Making the streams at start: a stream the server refuses to make is reported with the server's reason
 * (here its subjects overlap another stream's), not as the StreamNotFound of an update tried after it; a
 * stream another process made meanwhile with other settings is taken and brought to this process's settings.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { nanos, type NatsConnection } from '@nats-io/nats-core';
import { BUILTIN_JOB_TYPES } from '../../src/jobs/catalog.js';
import { names } from '../../src/messaging/names.js';
import { ensureStreams, streamConfigs } from '../../src/messaging/streams.js';
import { createTestEnv, startTestApp, type TestEnv } from '../support/app.js';

let env: TestEnv;
let nc: NatsConnection;
let jsm: JetStreamManager;
beforeAll(async () => {
  env = await createTestEnv();
  nc = await connect({ servers: env.natsUrl });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
  await env?.dispose();
});

it("refuses to start with the server's reason when the work-queue stream's subjects are another stream's", async () => {
  const squatter = `${env.prefix}SQUATTER`; // the env's prefix: removed with the env
  await jsm.streams.add({ name: squatter, subjects: [names(env.prefix).jobSubject('demo.sleep')] });
  try {
    const start = startTestApp({ env, handlers: null });
    await expect(start).rejects.toThrow(`cannot create stream ${env.prefix}JOBS: subjects overlap with an existing stream (JetStream error 10065)`);
  } finally {
    await jsm.streams.delete(squatter);
  }
  await expect(jsm.streams.info(`${env.prefix}JOBS`)).rejects.toThrow(/stream not found/);
});

it("takes a stream another process made between this one's look and its add, with that process's other settings", async () => {
  const n = names(`${env.prefix}race_`);
  const settings = { ackWaitMs: 30_000, duplicateWindowMs: 120_000 };
  const theirs = { ...settings, duplicateWindowMs: 60_000 };
  const made: string[] = [];
  // The other process's add lands just before this one's: what a start beside another process can meet.
  const racing: JetStreamManager = Object.create(jsm, {
    streams: {
      value: Object.create(jsm.streams, {
        add: {
          value: async (cfg: Parameters<JetStreamManager['streams']['add']>[0]) => {
            const other = streamConfigs(n, theirs).find((c) => c.name === cfg.name)!;
            await jsm.streams.add(other);
            made.push(cfg.name!);
            return jsm.streams.add(cfg);
          },
        },
      }),
    },
  });
  await ensureStreams(racing, n, BUILTIN_JOB_TYPES, settings);
  expect(made).toEqual(streamConfigs(n, settings).map((c) => c.name));
  for (const cfg of streamConfigs(n, settings)) {
    const { config } = await jsm.streams.info(cfg.name);
    if (cfg.duplicate_window !== undefined) expect(config.duplicate_window).toBe(nanos(settings.duplicateWindowMs));
    expect(config.subjects).toEqual(cfg.subjects);
  }
  expect((await jsm.consumers.info(n.jobsStream, n.workerConsumer('demo.sleep'))).config.filter_subject).toBe(n.jobSubject('demo.sleep'));
});
