/**
 * What PostgreSQL and a job update can take, for payloads (at submit) and handler results, progress
 * messages and error texts (in the worker): the size limits, and checks of a JSON value before it is
 * measured, validated and written:
 * - nesting depth, so that neither `JSON.stringify` nor a payload schema can overflow the stack;
 * - what PostgreSQL can store: `text` and `jsonb` refuse U+0000, and `jsonb` refuses unpaired UTF-16
 *   surrogates (valid in a JS string and in JSON text).
 * The walk is iterative, so a hostile payload cannot overflow the stack here either.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Deepest accepted nesting of arrays and objects in a payload. */
export const MAX_PAYLOAD_DEPTH = 64;

export const isStorableText = (s: string): boolean => !UNSTORABLE.test(s);

/**
 * Longest progress message or error text a worker stores and publishes, in UTF-16 code units (8,192). With
 * {@link MAX_RESULT_BYTES} it keeps every job update far below NATS' message size limit (`max_payload`,
 * 1 MiB by default; longrun refuses a server below `MIN_MAX_PAYLOAD`, messaging/messages.ts): an update too
 * large to publish would never reach the job's watchers.
 */
export const MAX_TEXT_LENGTH = 8192;

/**
 * Largest accepted payload, as JSON text (UTF-8 bytes): 256 KiB. A larger one is refused with
 * `OUT_OF_RANGE` on `payload` (README: Security). Put big inputs in object storage and pass a reference.
 */
export const MAX_PAYLOAD_BYTES = 256 * 1024;

/**
 * Largest handler result, as JSON text (UTF-8 bytes): as for a payload. A larger one fails the
 * job at once: it is published in the job's SUCCEEDED update. Put big outputs in object storage and return
 * a reference.
 */
export const MAX_RESULT_BYTES = MAX_PAYLOAD_BYTES;

/**
 * Longest part of a user's input that an error message quotes, in UTF-16 code units (200): an unknown job
 * type's name of a megabyte is not sent back whole.
 */
export const MAX_QUOTED_LENGTH = 200;

/** `s` cut to `max` UTF-16 code units, the last one `…`, when it is longer. */
const cut = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** A user's input as an error message quotes it: a JSON string, cut to {@link MAX_QUOTED_LENGTH} (ending in `…`). */
export const quoted = (s: string): string => JSON.stringify(cut(s, MAX_QUOTED_LENGTH));

const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');
/**
 * A progress message or error text as it is stored: cut to {@link MAX_TEXT_LENGTH} (ending in `…`), and
 * what PostgreSQL cannot store (U+0000, unpaired surrogates, one left by the cut too) replaced by U+FFFD.
 */
export const storableText = (s: string): string => {
  const text = cut(s, MAX_TEXT_LENGTH);
  return isStorableText(text) ? text : text.replace(UNSTORABLE_ALL, '\uFFFD');
};

/** What {@link checkJson} finds: `ok`, or why the value cannot be stored. */
export type JsonCheck = 'ok' | 'too-deep' | 'unstorable' | 'too-large' | 'non-finite';

/**
 * `ok`, or why the value cannot be stored. `maxValues`: `too-large` past that many values, counted as JSON
 * writes them (a part shared by several paths once per path), each at least a byte of JSON: a structure
 * sharing its parts level after level (`{ l: x, r: x }`, 40 levels deep) is refused after `maxValues` steps
 * rather than walked 2^40 times (as `JSON.stringify` would).
 *
 * `finite` (payloads): `non-finite` for a number that is not finite, when nothing else is wrong (see
 * {@link nonFiniteNumberAt}, which then names where it is). Without it (handler results, which
 * JSON.stringify writes with `null` in its place) numbers are not looked at.
 */
export function checkJson(value: unknown, maxDepth = MAX_PAYLOAD_DEPTH, maxValues = Infinity, o: { finite?: boolean } = {}): JsonCheck {
  const pending: [unknown, number][] = [[value, 0]];
  let values = 0;
  let nonFinite = false;
  while (pending.length) {
    if (++values > maxValues) return 'too-large';
    const [v, depth] = pending.pop()!;
    if (typeof v === 'string') {
      if (!isStorableText(v)) return 'unstorable';
    } else if (typeof v === 'number') {
      if (o.finite && !Number.isFinite(v)) nonFinite = true;
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth) return 'too-deep';
      for (const [k, x] of Object.entries(v)) {
        if (!Array.isArray(v) && !isStorableText(k)) return 'unstorable';
        pending.push([x, depth + 1]);
      }
    }
  }
  return nonFinite ? 'non-finite' : 'ok';
}

/**
 * The length of `JSON.stringify(value)` in UTF-8 bytes, counted without writing it, or a number past `limit` as
 * soon as the count passes it. A part shared by several paths counts once per path, as JSON writes it (one
 * GraphQL variable written in every input of a batch), but the walk stops past `limit` bytes rather than
 * going over each copy. For what a JSON scalar reads: JSON values, and `undefined` for a GraphQL variable a
 * literal names and the request does not give (left out of an object, `null` in a list); no functions or `toJSON`.
 */
export function jsonBytes(value: unknown, limit: number): number {
  const pending: unknown[] = [value];
  let bytes = 0;
  while (pending.length && bytes <= limit) {
    const v = pending.pop();
    if (v === null || typeof v !== 'object') {
      bytes += Buffer.byteLength(JSON.stringify(v) ?? 'null'); // undefined (an absent GraphQL variable): `null` in a list
    } else if (Array.isArray(v)) {
      bytes += 2 + Math.max(0, v.length - 1); // [ ] and the commas
      for (const x of v) pending.push(x);
    } else {
      // A key whose value JSON has no text for (undefined) is left out, as JSON.stringify leaves it.
      const entries = Object.entries(v).filter(([, x]) => x !== undefined);
      bytes += 2 + Math.max(0, entries.length - 1); // { } and the commas
      for (const [k, x] of entries) {
        bytes += Buffer.byteLength(JSON.stringify(k)) + 1; // "key":
        pending.push(x);
      }
    }
  }
  return bytes;
}

/**
 * The path of the first number in `value` that is not finite (else null): JSON text such as `1e400`, which
 * JSON.parse (and GraphQL's JSON scalar) read as Infinity, and JSON.stringify writes as `null`, so such a
 * payload would be stored, and run, with null in its place. Call it on a value that {@link checkJson}
 * answered `non-finite` (its depth is bounded).
 */
export function nonFiniteNumberAt(value: unknown): string[] | null {
  if (typeof value === 'number') return Number.isFinite(value) ? null : [];
  const pending: [unknown, string[]][] = [[value, []]];
  while (pending.length) {
    const [v, path] = pending.pop()!;
    if (v === null || typeof v !== 'object') continue;
    for (const [k, x] of Object.entries(v)) {
      if (typeof x === 'number') {
        if (!Number.isFinite(x)) return [...path, k];
      } else if (x !== null && typeof x === 'object') pending.push([x, [...path, k]]);
    }
  }
  return null;
}

/**
 * Whether `value` contains itself within its first `maxDepth` levels: what made a handler's result that
 * {@link checkJson} found too deep, rather than real depth. Each object is walked once (a structure that shares
 * parts is not walked once per path), and no deeper than `maxDepth`, so the stack stays short.
 */
export function refersToItself(value: unknown, maxDepth = MAX_PAYLOAD_DEPTH): boolean {
  const path = new Set<object>();
  const clear = new Set<object>();
  const walk = (v: unknown, depth: number): boolean => {
    if (v === null || typeof v !== 'object' || clear.has(v)) return false;
    if (path.has(v)) return true;
    if (depth >= maxDepth) return false;
    path.add(v);
    for (const x of Object.values(v)) if (walk(x, depth + 1)) return true;
    path.delete(v);
    clear.add(v);
    return false;
  };
  return walk(value, 0);
}

/**
 * The sentence that tells a user why `what` (e.g. `payload`) cannot be stored, for a refusal by
 * {@link checkJson} with the same `maxDepth`: the one wording of both payloads and results.
 */
export function unstorableMessage(what: string, check: Exclude<JsonCheck, 'ok'>, maxDepth = MAX_PAYLOAD_DEPTH): string {
  const why =
    check === 'too-deep' ? `nests deeper than ${maxDepth} levels`
    : check === 'too-large' ? 'is too large'
    : check === 'non-finite' ? 'has a number past what a JSON number holds here (about ±1.8e308); send it as a string'
    : 'contains U+0000 or an unpaired surrogate';
  return `${what} cannot be stored: it ${why}`;
}
