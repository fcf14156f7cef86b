/**
 * `jobProgress` (the SDK's `watchJob`) of a job deleted while it was watched, its end unseen (it ended and was
 * purged while the API's NATS connection was down): the watch fails with NOT_FOUND once the API reads what
 * it missed, rather than completing as if the job had ended, with no end to show.
 */
import { afterAll, expect, it } from 'vitest';
import type { JobUpdate, LongrunClient } from '../../sdk/index.js';
import { awaitOpeningRead, endUnheardAndPurge, useApiWithNatsProxy } from '../support/deleted-job.js';
import { gql, SUBMIT } from '../support/graphql.js';
import { eventually } from '../support/receivers.js';
import { sdkFor } from '../support/sdk.js';

const fixture = useApiWithNatsProxy();
let sdk: LongrunClient | undefined;
afterAll(() => sdk?.close());

it.each([
  ['from its current state', undefined],
  ['resumed after its last update', 1],
])('watchJob %s fails with NOT_FOUND (deleted while it was watched), not completes', async (_, after) => {
  const { api, proxy } = fixture;
  const client = (sdk ??= sdkFor(api));
  const id = (await gql(api.url, SUBMIT, { input: { type: 'demo.noop', payload: {} } })).body.data.submitJob.job.id as string;
  const seen: JobUpdate[] = [];
  const listeners = api.app.hub.listenerCount;
  // Resumed: its first read (of the history after 1) must come before the job's end (awaitOpeningRead).
  const opening = after === undefined ? null : await awaitOpeningRead(api);
  const watched = (async () => {
    for await (const u of client.watchJob(id, after === undefined ? {} : { after })) seen.push(u);
  })().then(
    () => null,
    (e: unknown) => e,
  );
  if (opening) {
    await opening.readDone();
    await opening.endUnheardAndDelete(id);
  } else {
    await eventually(() => api.app.hub.listenerCount > listeners && seen.length > 0, 10_000, 'the watch to be live');
    await endUnheardAndPurge(api, id);
  }
  proxy.cut(); // the API's NATS connection drops and comes back: its watchers read what they missed

  const error = await watched;
  expect(seen.map((u) => u.state)).toEqual(after === undefined ? ['QUEUED'] : []);
  expect(error).toMatchObject({ code: 'NOT_FOUND', message: 'job not found (deleted while it was watched)' });
});
