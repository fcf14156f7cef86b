/**
 * `longrun watch <id>` of a job deleted while it was watched (it ended and was purged while the API's NATS
 * connection was down): the CLI says the job is not found (exit 3) instead of printing nothing more and exiting
 * 0, whether it had printed updates (the job QUEUED) or none (`--after` its last seq). (The server fails such a
 * watch with NOT_FOUND; one that ends it with nothing more to send is read the same way: cli/commands.ts.)
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { expect, it } from 'vitest';
import { awaitOpeningRead, endUnheardAndPurge, useApiWithNatsProxy } from '../support/deleted-job.js';
import { gql, JOB, SUBMIT } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';

const BIN = path.resolve(import.meta.dirname, '../../bin/longrun.mjs');
const fixture = useApiWithNatsProxy();

/** The CLI run to its end; `printed` reads its stdout so far. */
function longrunWatched(args: string[]): { printed(): string; done: Promise<{ code: number; stdout: string; stderr: string }> } {
  const { api } = fixture;
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...process.env, LONGRUN_URL: api.url, LONGRUN_TOKEN: api.key ?? '', NODE_OPTIONS: '' },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return { printed: () => stdout, done: new Promise((resolve) => child.on('close', (code) => resolve({ code: code ?? 1, stdout, stderr }))) };
}
const longrun = (args: string[]) => longrunWatched(args).done;

it.each(['lines', 'json'])('watch --after the last seq of a job deleted while watched says it is not found, exit 3 (%s)', async (output) => {
  const { api, proxy } = fixture;
  const flags = output === 'json' ? ['--json'] : [];
  const id = (await gql(api.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const lastSeq = (await gql(api.url, JOB, { id })).body.data.job.events.at(-1).seq as number;
  const opening = await awaitOpeningRead(api);
  const watched = longrun(['watch', id, '--after', String(lastSeq), ...flags]);
  await opening.readDone();

  // The API's NATS connection drops and comes back, and its watchers read what they missed.
  await opening.endUnheardAndDelete(id);
  proxy.cut();

  const r = await watched;
  expect(r.stdout).toBe('');
  expect(r.stderr.trim()).toBe('longrun: NOT_FOUND: job not found (deleted while it was watched)');
  expect(r.code).toBe(3);
});

it.each(['lines', 'json'])('watch of a job deleted after it printed updates, its end unseen, says it is not found, exit 3 (%s)', async (output) => {
  const { api, proxy } = fixture;
  const flags = output === 'json' ? ['--json'] : [];
  const id = (await gql(api.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const watched = longrunWatched(['watch', id, ...flags]);
  await eventually(() => watched.printed().includes('QUEUED'), 10_000, 'the watch to print the job QUEUED');

  await endUnheardAndPurge(api, id);
  proxy.cut();

  const r = await watched.done;
  expect(r.stdout.trim().split('\n')).toHaveLength(1); // the QUEUED it saw; no result, error or cancelled
  expect(r.stderr.trim()).toBe('longrun: NOT_FOUND: job not found (deleted while it was watched)');
  expect(r.code).toBe(3);
});
