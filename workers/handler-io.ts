/**
 * What a handler gets and gives, checked: the payload as its type reads it now, and a result that can be
 * stored. Either failing fails the attempt for good (PermanentJobError): it would fail every time.
 */
import { PermanentJobError } from '../src/errors.js';
import { parsePayload } from '../src/jobs/definition.js';
import { errorMessage } from '../src/jobs/outcome.js';
import { checkJson, isStorableText, MAX_PAYLOAD_DEPTH, MAX_RESULT_BYTES, refersToItself, unstorableMessage } from '../src/jobs/payload-check.js';
import type { BoundHandler } from './handler.js';

/**
 * The payload as the handler's type reads it. It was checked against the type at submit; a payload the
 * worker's schema refuses now (the type changed since) would be refused by every attempt, so the job fails at
 * once (a dead letter to replay once the schema accepts it) instead of using up its retries.
 */
export async function payloadOf(bound: BoundHandler, payload: unknown): Promise<unknown> {
  const parsed = await parsePayload(bound.type, payload);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(payload)'}: ${i.message}`);
  throw new PermanentJobError(`the payload does not match type ${bound.type.name}'s schema any more: ${issues.join('; ')}`);
}

/** Refuses what `JSON.stringify` would write that PostgreSQL cannot store (a key or a string). */
const storableOnly = (key: string, v: unknown): unknown => {
  if (!isStorableText(key) || (typeof v === 'string' && !isStorableText(v))) {
    throw new PermanentJobError(unstorableMessage("the handler's result", 'unstorable'));
  }
  return v;
};

/**
 * A result that cannot be stored, or is over MAX_RESULT_BYTES, fails the attempt for good (it would every
 * time), not the completion batch it would join. So does one that cannot be read or written out: a getter or
 * `toJSON` that throws, a revoked Proxy (an immer draft), a value JSON has no form for (a BigInt).
 */
export function checkResult(result: unknown): void {
  try {
    checkResultShape(result);
  } catch (e) {
    if (e instanceof PermanentJobError) throw e;
    throw new PermanentJobError(`the handler's result cannot be stored as JSON: ${errorMessage(e)}`);
  }
}

function checkResultShape(result: unknown): void {
  // The depth first, so that stringify cannot overflow the stack, and the number of values, so that it
  // cannot write out a structure that shares its parts level after level (exponential in its depth).
  const shape = checkJson(result, MAX_PAYLOAD_DEPTH, MAX_RESULT_BYTES);
  if ((shape === 'too-deep' || shape === 'too-large') && refersToItself(result)) {
    throw new PermanentJobError("the handler's result cannot be stored as JSON: it contains itself (a circular structure)");
  }
  if (shape === 'too-large') throw new PermanentJobError(tooLarge(`more than ${MAX_RESULT_BYTES}`));
  if (shape !== 'ok') throw new PermanentJobError(unstorableMessage("the handler's result", shape));
  // As it will be stored, after any toJSON (which checkJson does not see).
  const json = JSON.stringify(result, storableOnly) ?? 'null';
  // UTF-8 takes at most 3 bytes per UTF-16 unit: a short text needs no count.
  const bytes = json.length * 3 <= MAX_RESULT_BYTES ? 0 : Buffer.byteLength(json);
  if (bytes > MAX_RESULT_BYTES) throw new PermanentJobError(tooLarge(String(bytes)));
}

const tooLarge = (bytes: string) =>
  `the handler's result is ${bytes} bytes as JSON; the maximum is ${MAX_RESULT_BYTES} (store large outputs elsewhere and return a reference)`;
