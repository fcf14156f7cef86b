/**
 * Checks of a JSON payload before it is measured, validated and written:
 * - nesting depth, so that neither `JSON.stringify` nor a payload schema can overflow the stack;
 * - what PostgreSQL can store: `text` and `jsonb` refuse U+0000, and `jsonb` refuses unpaired UTF-16
 *   surrogates (valid in a JS string and in JSON text).
 * The walk is iterative, so a hostile payload cannot overflow the stack here either.
 */
const UNSTORABLE = /\u0000|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Deepest accepted nesting of arrays and objects in a payload. */
export const MAX_PAYLOAD_DEPTH = 64;

export const isStorableText = (s: string): boolean => !UNSTORABLE.test(s);

/** `s` with what PostgreSQL cannot store (U+0000, unpaired surrogates) replaced by U+FFFD. */
const UNSTORABLE_ALL = new RegExp(UNSTORABLE.source, 'g');
export const storableText = (s: string): string => (isStorableText(s) ? s : s.replace(UNSTORABLE_ALL, '\uFFFD'));

/** `ok`, or why the value cannot be accepted. */
export function checkJson(value: unknown, maxDepth = MAX_PAYLOAD_DEPTH): 'ok' | 'too-deep' | 'unstorable' {
  const pending: [unknown, number][] = [[value, 0]];
  while (pending.length) {
    const [v, depth] = pending.pop()!;
    if (typeof v === 'string') {
      if (!isStorableText(v)) return 'unstorable';
    } else if (v !== null && typeof v === 'object') {
      if (depth >= maxDepth) return 'too-deep';
      for (const [k, x] of Object.entries(v)) {
        if (!Array.isArray(v) && !isStorableText(k)) return 'unstorable';
        pending.push([x, depth + 1]);
      }
    }
  }
  return 'ok';
}
