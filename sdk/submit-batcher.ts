/**
 * Submit batching: concurrent `submitJob` calls travel as one `submitJobs` request. A call waits only for
 * the end of the current microtask run (so the calls of one synchronous burst go together); it leaves at
 * once while fewer than MAX_IN_FLIGHT requests are open, and otherwise with the calls that queued behind it
 * when one returns. A request carries at most MAX_BATCH calls and about MAX_BATCH_BYTES of input, well
 * under the server's batch size (1,000) and body limit (2 MiB by default).
 *
 * Each call gets exactly the answer its own `submitJob` would have got:
 * - a lone call is sent as `submitJob`;
 * - `submitJobs` is all or nothing on the server, so a batch that comes back with user errors wrote
 *   nothing, and its calls are sent again one by one: each gets its own errors (paths `input.…`) or job;
 * - a batch refused before it ran (RATE_LIMITED, PAYLOAD_TOO_LARGE) is also sent again one by one, so the
 *   calls within the limit pass as they would have;
 * - any other failure rejects every call of the batch, as each one's own request would have failed. A lost
 *   answer is not sent again: its jobs may exist (send an `idempotencyKey` to make retrying safe).
 *
 * Each input is serialised once, when it is queued: that JSON text is what is measured and what is sent.
 */
import { LongrunError } from './errors.js';
import type { SubmitJobInput, SubmitJobMutation, SubmitJobsMutation } from './generated/graphql.js';

type One = SubmitJobMutation['submitJob'];
type Many = SubmitJobsMutation['submitJobs'];

const MAX_IN_FLIGHT = 4;
const MAX_BATCH = 500;
const MAX_BATCH_BYTES = 512 * 1024;
/** Codes of a batch the server refused before running it (nothing was written). */
const REFUSED_WHOLE = new Set(['RATE_LIMITED', 'PAYLOAD_TOO_LARGE']);

interface Call {
  /** The input as JSON text. */
  json: string;
  bytes: number;
  resolve(r: One): void;
  reject(e: unknown): void;
}

/** `submitJob` batched; `send` takes the inputs as JSON text (`one` for `submitJob`, `many` for `submitJobs`). */
export function submitBatcher(send: {
  one(inputJson: string): Promise<One>;
  many(inputsJson: string[]): Promise<Many>;
}): (input: SubmitJobInput) => Promise<One> {
  const queue: Call[] = [];
  let inFlight = 0;
  let pumpQueued = false;

  const alone = (c: Call) => send.one(c.json).then(c.resolve, c.reject);
  const oneByOne = (batch: Call[]) => Promise.all(batch.map(alone));

  async function run(batch: Call[]): Promise<void> {
    if (batch.length === 1) return alone(batch[0]!);
    let r: Many;
    try {
      r = await send.many(batch.map((c) => c.json));
    } catch (e) {
      if (e instanceof LongrunError && REFUSED_WHOLE.has(e.code)) return void (await oneByOne(batch));
      for (const c of batch) c.reject(e);
      return;
    }
    if (r.userErrors.length || !r.jobs) return void (await oneByOne(batch));
    const jobs = r.jobs;
    if (jobs.length !== batch.length) {
      // Never answer a call with no job and no error: a short answer fails every call of the batch.
      const e = new LongrunError(`submitJobs answered ${jobs.length} jobs for ${batch.length} inputs`, 'INTERNAL_SERVER_ERROR', []);
      for (const c of batch) c.reject(e);
      return;
    }
    batch.forEach((c, i) => c.resolve({ job: jobs[i]!, userErrors: [] }));
  }

  function pump(): void {
    pumpQueued = false;
    while (inFlight < MAX_IN_FLIGHT && queue.length) {
      let n = 0;
      let bytes = 0;
      while (n < queue.length && n < MAX_BATCH && (n === 0 || bytes + queue[n]!.bytes <= MAX_BATCH_BYTES)) bytes += queue[n++]!.bytes;
      inFlight++;
      void run(queue.splice(0, n)).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return (input) =>
    new Promise<One>((resolve, reject) => {
      const json = JSON.stringify(input);
      queue.push({ json, bytes: Buffer.byteLength(json), resolve, reject });
      if (!pumpQueued) {
        pumpQueued = true;
        queueMicrotask(pump);
      }
    });
}
