/**
 * The dead-letter recorder's sweep takes a job whose worker died on its last attempt (no worker pulls any
 * more, so JetStream raises no max-deliveries advisory): it copies the message to the dead-letter stream,
 * removes it from the work queue and marks the job FAILED, and the process dies right then. The job must be
 * a listed dead letter: FAILED is no longer a job the sweep looks for, and its message is gone, so no
 * redelivery or advisory comes for it either; the copy has to be recorded with the state, not after it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { gql, SUBMIT, waitForJob } from '../support/graphql.js';
import { createTestEnv, type TestEnv } from '../support/app.js';
import { spawnApi, spawnWorker } from '../support/processes.js';
import { eventually } from '../support/receivers.js';
import { probeStreams, type StreamProbe } from '../support/streams.js';
import { names } from '../../src/messaging/names.js';

const FAST = { ACK_WAIT_MS: '1500', SHUTDOWN_GRACE_MS: '0', LOG_LEVEL: 'info' };

let env: TestEnv;
let probe: StreamProbe;
beforeAll(async () => {
  env = await createTestEnv();
  probe = await probeStreams(env.natsUrl);
});
afterAll(async () => {
  await probe?.close();
  await env?.dispose();
});

const DEAD_LETTERS = /* GraphQL */ `{ deadLetters(first: 10) { edges { node { id state error } } } }`;

it('a dead letter the recorder marked FAILED just before it died is listed in deadLetters', async () => {
  const n = names(env.prefix);
  const api1 = await spawnApi({ ...env.env, ...FAST, LONGRUN_FAULTS: 'dead-letter-after-mark' });
  const worker = await spawnWorker({ ...env.env, ...FAST });
  const submitted = (await gql(api1.url, SUBMIT, { input: { type: 'demo.sleep', payload: { ms: 60_000, steps: 60 }, maxAttempts: 1 } })).body.data.submitJob;
  const id = submitted.job.id as string;
  await waitForJob(api1.url, id, (j) => j.state === 'RUNNING');
  await worker.kill('SIGKILL'); // its last attempt is lost, and nothing pulls any more

  expect((await api1.exited).signal).toBe('SIGKILL'); // at the fault point: FAILED, the copy made
  const [row] = await env.sql`select state from jobs where id = ${id}`;
  expect(row!.state).toBe('FAILED');
  expect((await probe.state(n.jobsStream)).messages).toBe(0);
  expect((await probe.state(n.deadLetterStream, n.deadLetterSubject('demo.sleep', '*'))).messages).toBe(1);

  const api2 = await spawnApi({ ...env.env, ...FAST });
  try {
    // Several sweeps (every 1.5 s here) and a redelivery's time go by.
    const listed = await eventually(
      async () => {
        const edges = (await gql(api2.url, DEAD_LETTERS)).body.data.deadLetters.edges as { node: { id: string } }[];
        return edges.length ? edges.map((e) => e.node) : undefined;
      },
      15_000,
      'the dead letter listed',
    ).catch(() => []);
    expect(listed).toEqual([{ id, state: 'FAILED', error: 'worker lost during the last attempt' }]);
    expect((await probe.state(n.deadLetterStream, n.deadLetterSubject('demo.sleep', '*'))).messages).toBe(1);
  } finally {
    await api2.kill('SIGTERM');
  }
}, 300_000);
