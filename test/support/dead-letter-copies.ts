/** What the dead-letter stream holds for one job, read with an app's own NATS connection. */
import { expect } from 'vitest';
import type { StoredMsg } from '@nats-io/jetstream';
import type { Nats } from '../../src/messaging/connect.js';
import type { Names } from '../../src/messaging/names.js';
import type { TestApp } from './app.js';
import { gql, SUBMIT, waitForJob } from './graphql.js';
import { eventually } from './streams.js';

const DEAD_LETTERS = `{ deadLetters(type: "demo.flaky") { edges { node { id state } } } }`;

/** The job's copies in the dead-letter stream, as `seq:attempt series` (the series in the copied message). */
export async function deadLetterCopiesOf(d: { nats: Nats; names: Names }, id: string): Promise<string[]> {
  const info = await d.nats.jsm.streams.info(d.names.deadLetterStream);
  const found: string[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const m = await d.nats.jsm.streams.getMessage(d.names.deadLetterStream, { seq }).catch(() => null);
    if (m?.header.get('Longrun-Job-Id') === id) found.push(`${seq}:${JSON.parse(new TextDecoder().decode(m.data)).series}`);
  }
  return found;
}

/**
 * Submits a `demo.flaky` job that fails for good, waits for it to be FAILED and then listed by `deadLetters`
 * (up to `timeoutMs`), and answers its id and the dead-letter stream's message at the sequence its row records.
 */
export async function failedAndListed(t: TestApp, timeoutMs: number): Promise<{ id: string; copy: StoredMsg | null }> {
  const { nats, names } = t.app.deps;
  const id = (await gql(t.url, SUBMIT, { input: { type: 'demo.flaky', payload: { permanent: true } } })).body.data.submitJob.job.id as string;
  expect(await waitForJob(t.url, id, (j) => j.state === 'FAILED')).toMatchObject({ state: 'FAILED' });
  await eventually(
    async () => (await gql(t.url, DEAD_LETTERS)).body.data.deadLetters.edges.some((e: { node: { id: string } }) => e.node.id === id),
    'listed as a dead letter',
    timeoutMs,
  );
  const [row] = await t.env.sql<{ seq: string | null }[]>`select dead_letter_seq::text as seq from jobs where id = ${id}`;
  expect(row!.seq).not.toBeNull();
  return { id, copy: await nats.jsm.streams.getMessage(names.deadLetterStream, { seq: Number(row!.seq) }) };
}
