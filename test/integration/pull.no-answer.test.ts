/**
 * A pull request (`pullMessages`) on a consumer that is not there, or whose stream is not: nats-server 2.9.10
 * answers it with nothing at all (no 404, no 408), so a pull that only ended on the server's word would wait
 * for ever, and one ended quietly on a client timer would look like a pull on an idle consumer. It ends with an
 * error instead, once it has had its time and LATE_408_MS more with no answer, and an idle consumer's pull
 * still ends quietly. A worker whose consumer is deleted logs the pull the deletion cut short (a 409), makes
 * its streams and consumers again (stream-repair.ts) without being restarted, and runs the type's jobs.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { connect } from '@nats-io/transport-node';
import { AckPolicy, jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { createLogger } from '../../src/log.js';
import { pullMessages } from '../../src/messaging/pull.js';
import { BUILTIN_HANDLERS } from '../../workers/registry.js';
import { startTestApp, type TestApp } from '../support/app.js';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { eventually } from '../support/streams.js';

const NO_ANSWER = 'no answer to the pull request (is the consumer there?)';

const logs: { level: number; msg: string; type?: string; err?: { message: string } }[] = [];
let t: TestApp;
let nc: NatsConnection;
let jsm: JetStreamManager;
let stream: string;
beforeAll(async () => {
  t = await startTestApp({
    handlers: BUILTIN_HANDLERS.filter((h) => h.type.name === 'demo.noop'),
    log: createLogger('warn', 'longrun', { write: (line: string) => void logs.push(JSON.parse(line)) }),
  });
  nc = await connect({ servers: t.env.natsUrl });
  jsm = await jetstreamManager(nc);
  stream = `${t.env.prefix}pull_no_answer`;
  await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
  await jsm.consumers.add(stream, { durable_name: 'idle', ack_policy: AckPolicy.Explicit });
});
afterAll(async () => {
  await nc?.close();
  await t?.dispose();
});

/** Everything one pull brings, and how it ended: quietly, or with the error it threw. */
async function pullAll(stream: string, consumer: string): Promise<{ messages: string[]; error: string | null }> {
  const messages: string[] = [];
  try {
    for await (const m of pullMessages(nc, stream, consumer, 10).messages) messages.push(m.string());
    return { messages, error: null };
  } catch (e) {
    return { messages, error: (e as Error).message };
  }
}

it('a pull on an idle consumer ends quietly, with no messages', async () => {
  expect(await pullAll(stream, 'idle')).toEqual({ messages: [], error: null });
});

it('a pull on a consumer that does not exist ends with the no-answer error', async () => {
  expect(await pullAll(stream, 'missing')).toEqual({ messages: [], error: NO_ANSWER });
});

it('a pull on a stream that does not exist ends with the no-answer error', async () => {
  expect(await pullAll(`${t.env.prefix}no_such_stream`, 'idle')).toEqual({ messages: [], error: NO_ANSWER });
});

it('a worker whose consumer is deleted logs the failed pull, makes the consumer again, and runs jobs', async () => {
  const consumer = t.app.deps.names.workerConsumer('demo.noop');
  const { config } = await jsm.consumers.info(t.app.deps.names.jobsStream, consumer);
  await jsm.consumers.delete(t.app.deps.names.jobsStream, consumer);
  await eventually(() => logs.some((l) => l.msg.startsWith('pull failed') && l.type === 'demo.noop'), 'the failed pull logged');
  await eventually(() => logs.some((l) => l.msg === 'JetStream streams and consumers made again'), 'the repair logged');
  const { filter_subject, ack_wait, max_deliver, max_ack_pending } = config;
  expect((await jsm.consumers.info(t.app.deps.names.jobsStream, consumer)).config).toMatchObject({ filter_subject, ack_wait, max_deliver, max_ack_pending });

  const r = await gql(t.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } });
  const id = r.body.data.submitJob.job.id as string;
  expect(await waitForJob(t.url, id, (j) => j.state === 'SUCCEEDED' || j.state === 'FAILED')).toMatchObject({ state: 'SUCCEEDED' });
});
