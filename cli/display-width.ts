/**
 * How many terminal columns text takes, for the CLI's tables and progress bar: counted per grapheme cluster
 * (what the user sees as one character), not per UTF-16 code unit. East Asian Wide and Fullwidth characters
 * and emoji take 2, combining marks and zero-width characters 0, everything else 1. Correct enough for the
 * terminals in use (as `wcwidth` and the `string-width` package count), without a table of every code point.
 */

const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' });

/** East Asian Wide (W) and Fullwidth (F) ranges outside the emoji (those are `\p{Emoji_Presentation}`). */
const WIDE: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo leading consonants
  [0x2329, 0x232a], // angle brackets
  [0x2630, 0x2637], // trigrams
  [0x268a, 0x268f], // digrams and monograms
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  [0x3041, 0x3247], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, enclosed CJK
  [0x3250, 0x33ff], // enclosed CJK, CJK compatibility (3248-324F are ambiguous: narrow)
  [0x3400, 0x4dff], // CJK extension A, Yijing hexagrams
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth ASCII
  [0xffe0, 0xffe6], // fullwidth signs
  [0x16fe0, 0x16ff6], // ideographic symbols
  [0x17000, 0x18dff], // Tangut, Khitan
  [0x1aff0, 0x1b2ff], // Kana supplement and extensions, Nushu
  [0x1d300, 0x1d376], // Tai Xuan Jing, counting rods
  [0x1f200, 0x1f2ff], // enclosed ideographic supplement
  [0x20000, 0x3fffd], // CJK extensions B and on
];

const isWide = (cp: number) => WIDE.some(([from, to]) => cp >= from && cp <= to);

/** Combining marks, format characters (zero-width joiner and space among them), Hangul vowel and final Jamo, controls. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}\u1160-\u11ff]$/u;

/** Columns of one grapheme cluster: its widest code point, or 2 for an emoji shown as one. */
function clusterWidth(cluster: string): number {
  const first = String.fromCodePoint(cluster.codePointAt(0)!);
  // 😀, 👍🏽, 🇫🇷, 👨‍👩‍👧; ❤️ and 1️⃣ (a text-style emoji with the emoji variation selector) too.
  if (/\p{Emoji_Presentation}/u.test(first) || (/\p{Emoji}/u.test(first) && cluster.includes('\ufe0f'))) return 2;
  let width = 0;
  for (const c of cluster) width = Math.max(width, ZERO_WIDTH.test(c) ? 0 : isWide(c.codePointAt(0)!) ? 2 : 1);
  return width;
}

/** The columns `text` takes on a terminal. */
export function displayWidth(text: string): number {
  if (/^[\u0020-\u007e]*$/.test(text)) return text.length; // printable ASCII, the usual case
  let width = 0;
  for (const { segment } of graphemes.segment(text)) width += clusterWidth(segment);
  return width;
}

/** `text` cut to at most `columns` columns, between grapheme clusters (never inside an emoji or a surrogate pair). */
export function fitWidth(text: string, columns: number): string {
  if (displayWidth(text) <= columns) return text;
  let width = 0;
  let fitted = '';
  for (const { segment } of graphemes.segment(text)) {
    width += clusterWidth(segment);
    if (width > columns) break;
    fitted += segment;
  }
  return fitted;
}

/** `text` padded with spaces to `columns` columns. */
export const padEndWidth = (text: string, columns: number): string => text + ' '.repeat(Math.max(0, columns - displayWidth(text)));
