/**
 * Submit batching: concurrent `submitJob` calls travel as one `submitJobs` request. A call waits only for
 * the end of the current microtask run (so the calls of one synchronous burst go together); it leaves at
 * once while fewer than MAX_IN_FLIGHT batches are open (a batch is answered in one request or, refused,
 * in a few, one after the other), and otherwise with the calls that queued behind it when one is done. A request carries at most MAX_BATCH calls and about MAX_BATCH_BYTES of input, well
 * under the server's batch size (1,000) and body limit (2 MiB by default), and less once the server has
 * said its limits are lower (below).
 *
 * Each call gets exactly the answer its own `submitJob` would have got: its job, its own user errors (paths
 * `input.…`), or the error its request alone would have got. A lone call is sent as `submitJob`. A batch the
 * server refuses wrote nothing; its calls are answered or sent again, in order, in as few requests as the
 * refusal allows:
 * - RATE_LIMITED with `extensions.limit` (one operation may submit at most that many jobs with this key):
 *   no request of this client carries more calls from then on;
 * - RATE_LIMITED, `extensions.remaining` (whole jobs the key's bucket held): the next request carries at
 *   most that many calls (they fit unless the key's other operations take tokens first; refused again, the
 *   answer's smaller `remaining` applies). Once they have gone, or at once when none fit, one call goes
 *   alone. Refused with RATE_LIMITED (it, or any call sent alone), the bucket held less than one token, so
 *   every later call of the batch, alone at that instant, would have met the same bucket (a refused take
 *   takes nothing) and been refused with the same error: each gets that very error, without a request of
 *   its own; but a call whose input GraphQL may not coerce (not yet in a request answered or refused
 *   RATE_LIMITED) still goes: alone, GraphQL refuses such an input with BAD_USER_INPUT before the rate is
 *   checked. Answered, the rest go on as a batch;
 * - PAYLOAD_TOO_LARGE (over the server's body limit): the byte cap becomes half the refused batch's input,
 *   from then on, and the calls go again under it; a call too large alone is sent alone and gets its 413;
 * - user errors (`submitJobs` is all or nothing): an error that names its input by index and has a code of
 *   OWN_INPUT_CODES is what that input alone gets (the server checks each input by itself, with messages
 *   that do not name the index, and reports every input's errors), so its call gets it with the path
 *   `input.…`; so does IDEMPOTENCY_KEY_REUSED on an input whose key no other input of the batch gives with
 *   another type: a stored job holds the key, and the call alone would be refused the same way, so it is
 *   not sent again. The calls without errors go again as one batch, then each call named by another error
 *   (IDEMPOTENCY_KEY_REUSED for a key another input gives with another type: alone, the answer depends on
 *   what those inputs stored) alone, after them. An error that names no input sends every call of the batch
 *   alone;
 * - BAD_USER_INPUT (variables GraphQL cannot coerce: `maxAttempts: 1.5`): the calls its errors name go alone
 *   after the others, and get the error their own request gets.
 * Any other failure rejects every call of that request, as each one's own request would have failed. A lost
 * answer is not sent again: its jobs may exist (send an `idempotencyKey` to make retrying safe). Once the
 * client is closed, the calls not sent yet fail with CLOSED instead of going out after the close.
 *
 * Each input is serialised once, when it is queued: that JSON text is what is measured and what is sent.
 */
import { LongrunError } from './errors.js';
import type { SubmitJobInput, SubmitJobMutation, SubmitJobsMutation } from './generated/graphql.js';

type One = SubmitJobMutation['submitJob'];
type Many = SubmitJobsMutation['submitJobs'];
type UserError = Many['userErrors'][number];

const MAX_IN_FLIGHT = 4;
const MAX_BATCH = 500;
const MAX_BATCH_BYTES = 512 * 1024;
/**
 * userError codes that depend on the input alone (the server's `validateSubmit` and `validateNotify`): the
 * same input gets the same errors in any batch, and alone. IDEMPOTENCY_KEY_REUSED is not one of them (see
 * `heldByStoredJob`).
 */
const OWN_INPUT_CODES = new Set([
  'UNKNOWN_JOB_TYPE',
  'INVALID_PAYLOAD',
  'OUT_OF_RANGE',
  'INVALID_NOTIFY',
  'INVALID_WEBHOOK_URL',
  'WEBHOOK_NOT_ALLOWED',
  'INVALID_EMAIL',
  'NOTIFY_NOT_CONFIGURED',
]);

interface Call {
  /** The input as JSON text. */
  json: string;
  bytes: number;
  /** Sent as `submitJob` (its batch's user error depended on the other inputs). */
  alone?: boolean;
  /**
   * GraphQL took the input: a request carrying it was answered, or refused RATE_LIMITED (the server checks
   * the rate only for variables it can coerce; one it cannot is refused BAD_USER_INPUT, charged nothing).
   */
  coerces?: boolean;
  resolve(r: One): void;
  reject(e: unknown): void;
}

/**
 * What a request's answer leaves to do: `retry`, calls to send again before the others (nothing of theirs
 * was written); `quota`, how many calls fit the rate limit now; `refused`, the RATE_LIMITED error a lone call
 * got, which every later call whose input GraphQL took (`coerces`) gets too.
 */
interface Outcome {
  retry?: Call[];
  quota?: number;
  refused?: LongrunError;
}

const isRateLimited = (e: unknown): e is LongrunError => e instanceof LongrunError && e.code === 'RATE_LIMITED';

interface KeyOfInput {
  key: unknown;
  type: unknown;
}
/** The idempotency key (null without one) and type of a call's input. */
function keyOf(c: Call): KeyOfInput {
  const { idempotencyKey = null, type } = JSON.parse(c.json) as { idempotencyKey?: unknown; type?: unknown };
  return { key: idempotencyKey, type };
}

/**
 * IDEMPOTENCY_KEY_REUSED on input `i` is final when no other input of the batch gives its key with another
 * type: the server found the key on a stored job of another type (a batch reports a clash between its own
 * inputs instead, before reading stored jobs), and `submitJob` alone gets that same refusal.
 */
const heldByStoredJob = (keys: KeyOfInput[], i: number): boolean =>
  keys[i]!.key !== null && keys.every((k, j) => j === i || k.key !== keys[i]!.key || k.type === keys[i]!.type);
const bytesOf = (calls: Call[]) => calls.reduce((n, c) => n + c.bytes, 0);

/** What a call not yet sent when the client is closed fails with. */
const closedBeforeSent = () => new LongrunError('the client was closed before this submitJob was sent: no job was submitted for it', 'CLOSED');

/**
 * `submitJob` batched; `send` takes the inputs as JSON text (`one` for `submitJob`, `many` for `submitJobs`).
 * `close()` fails every call not sent yet (queued, or to be sent again after a refusal) with CLOSED.
 */
export function submitBatcher(send: {
  one(inputJson: string): Promise<One>;
  many(inputsJson: string[]): Promise<Many>;
}): { submit(input: SubmitJobInput): Promise<One>; close(): void } {
  const queue: Call[] = [];
  let inFlight = 0;
  let pumpQueued = false;
  /** How many times `close()` was called: a delivery that began before one sends nothing more. */
  let closes = 0;
  /** The most calls and input bytes one request carries: lowered by the server's refusals, never raised. */
  const limits = { calls: MAX_BATCH, bytes: MAX_BATCH_BYTES };

  /** How many of `calls`, from the first, the next request carries (at least one, at most `most`). */
  function fit(calls: Call[], most = Infinity): number {
    if (calls[0]!.alone) return 1;
    const max = Math.min(calls.length, limits.calls, most);
    let n = 1;
    let bytes = calls[0]!.bytes;
    while (n < max && !calls[n]!.alone && bytes + calls[n]!.bytes <= limits.bytes) bytes += calls[n++]!.bytes;
    return n;
  }

  /**
   * Answers every call, in order. `quota` only saves requests: sending a call alone early is always right
   * (its answer is its own), and calls are answered without a request only after a lone call's RATE_LIMITED.
   */
  async function deliver(calls: Call[]): Promise<void> {
    let todo = calls;
    let quota = Infinity;
    const closesBefore = closes;
    while (todo.length) {
      if (closes !== closesBefore) {
        for (const c of todo) c.reject(closedBeforeSent());
        return;
      }
      const probe = quota <= 0;
      const n = probe ? 1 : fit(todo, quota);
      const batch = todo.slice(0, n);
      todo = todo.slice(n);
      const o = n === 1 ? await alone(batch[0]!) : await together(batch);
      if (o.refused) {
        // Alone, each later call would meet the same empty bucket, unless GraphQL cannot take its input: that
        // one is refused with BAD_USER_INPUT first. A call not known to coerce still goes.
        for (const c of todo) if (c.coerces) c.reject(o.refused);
        todo = todo.filter((c) => !c.coerces);
        quota = Infinity;
        continue;
      }
      if (o.retry) todo = [...o.retry, ...todo];
      quota = o.quota ?? (probe ? Infinity : quota - n);
    }
  }

  async function alone(c: Call): Promise<Outcome> {
    try {
      c.resolve(await send.one(c.json));
      return {};
    } catch (e) {
      c.reject(e);
      return isRateLimited(e) ? { refused: e } : {};
    }
  }

  async function together(batch: Call[]): Promise<Outcome> {
    let r: Many;
    try {
      r = await send.many(batch.map((c) => c.json));
    } catch (e) {
      return refused(batch, e);
    }
    if (r.userErrors.length) return { retry: answerOwnErrors(batch, r.userErrors) };
    const jobs = r.jobs;
    if (jobs?.length !== batch.length) {
      // Never answer a call with no job and no error: a short answer fails every call of the batch.
      const e = new LongrunError(`submitJobs answered ${jobs?.length ?? 0} jobs for ${batch.length} inputs`, 'INTERNAL_SERVER_ERROR', []);
      for (const c of batch) c.reject(e);
      return {};
    }
    batch.forEach((c, i) => c.resolve({ job: jobs[i]!, userErrors: [] }));
    return {};
  }

  /** A batch the server refused before running it is sent again under what the refusal said; else it fails. */
  function refused(batch: Call[], e: unknown): Outcome {
    if (isRateLimited(e)) {
      for (const c of batch) c.coerces = true;
      const { limit, remaining } = e.errors[0]?.extensions ?? {};
      if (typeof limit === 'number' && limit >= 1) limits.calls = Math.min(limits.calls, Math.floor(limit));
      const fits = typeof remaining === 'number' ? Math.floor(remaining) : 0;
      return { retry: batch, quota: Math.max(0, Math.min(fits, batch.length - 1)) };
    }
    if (e instanceof LongrunError && e.code === 'PAYLOAD_TOO_LARGE') {
      limits.bytes = Math.min(limits.bytes, Math.floor(bytesOf(batch) / 2));
      return { retry: batch };
    }
    if (e instanceof LongrunError && e.code === 'BAD_USER_INPUT') return { retry: uncoercible(batch, e) };
    for (const c of batch) c.reject(e);
    return {};
  }

  /**
   * A batch whose variables GraphQL refused before running it (an input it cannot coerce: `maxAttempts: 1.5`,
   * a string for a number): nothing was written. The calls its errors name (`at "inputs[3]…"`) go alone, after
   * the others as a batch, and get their own error; when an error names none, every call goes alone.
   */
  function uncoercible(batch: Call[], e: LongrunError): Call[] {
    const named = e.errors.map((x) => /^Variable "\$inputs" got invalid value .* at "inputs\[(\d+)\]/s.exec(x.message)?.[1]);
    const bad = new Set(named.map(Number));
    if (!named.length || named.some((i) => i === undefined) || [...bad].some((i) => i >= batch.length)) {
      return batch.map((c) => Object.assign(c, { alone: true }));
    }
    return [...batch.filter((_, i) => !bad.has(i)), ...batch.filter((_, i) => bad.has(i)).map((c) => Object.assign(c, { alone: true }))];
  }

  /**
   * Answers the calls whose errors are their own (OWN_INPUT_CODES, or a key a stored job holds; named by
   * index) with them, as `submitJob` reports them; returns the calls to send again: those without errors,
   * then those named by other errors (marked to go alone). An error that names no input marks every call to
   * go alone.
   */
  function answerOwnErrors(batch: Call[], errors: readonly UserError[]): Call[] {
    const own = new Map<number, UserError[]>();
    const other = new Set<number>();
    let keys: KeyOfInput[] | null = null; // read only for an IDEMPOTENCY_KEY_REUSED
    for (const e of errors) {
      const i = e.field?.[0] === 'inputs' && /^\d+$/.test(e.field[1] ?? '') ? Number(e.field[1]) : -1;
      if (i < 0 || i >= batch.length) return batch.map((c) => Object.assign(c, { alone: true }));
      if (!OWN_INPUT_CODES.has(e.code) && !(e.code === 'IDEMPOTENCY_KEY_REUSED' && heldByStoredJob((keys ??= batch.map(keyOf)), i))) other.add(i);
      else own.set(i, [...(own.get(i) ?? []), { ...e, field: ['input', ...e.field!.slice(2)] }]);
    }
    const again = batch.filter((c, i) => !own.has(i) && !other.has(i)).map((c) => Object.assign(c, { coerces: true }));
    batch.forEach((c, i) => {
      if (other.has(i)) again.push(Object.assign(c, { alone: true, coerces: true }));
      else if (own.has(i)) c.resolve({ job: null, userErrors: own.get(i)! });
    });
    return again;
  }

  function pump(): void {
    pumpQueued = false;
    while (inFlight < MAX_IN_FLIGHT && queue.length) {
      inFlight++;
      void deliver(queue.splice(0, fit(queue))).finally(() => {
        inFlight--;
        pump();
      });
    }
  }

  return {
    submit: (input) =>
      new Promise<One>((resolve, reject) => {
        const json = JSON.stringify(input);
        queue.push({ json, bytes: Buffer.byteLength(json), resolve, reject });
        if (!pumpQueued) {
          pumpQueued = true;
          queueMicrotask(pump);
        }
      }),
    close() {
      closes++;
      for (const c of queue.splice(0)) c.reject(closedBeforeSent());
    },
  };
}
