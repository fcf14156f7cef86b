/**
 * The CLI's tables as a user sees them: on a terminal each column starts at the same screen column whatever
 * its cells hold (CJK characters and emoji take two columns, a combining accent none), and on a terminal or in
 * a pipe a cell's line break, tab or escape is printed escaped, so it cannot split a row, add a column or drive
 * the terminal.
 */
import { describe, expect, it } from 'vitest';
import { displayWidth, fitWidth } from '../../cli/display-width.js';
import { table, type Output } from '../../cli/output.js';

/** What `table` prints, one string per line. */
function printed(tty: boolean, header: string[], rows: string[][]): string[] {
  const lines: string[] = [];
  const o: Output = { tty, out: (l) => lines.push(...l.split('\n')), err: () => {} };
  table(o, header, rows);
  return lines;
}

describe('table on a terminal', () => {
  it('pads by screen columns: a cell of CJK, emoji or combined accents lines up with plain ones', () => {
    const lines = printed(true, ['TYPE', 'STATE', 'NOTE'], [
      ['画像.変換', 'QUEUED', 'a'],
      ['ok👍🏽', 'RUNNING', 'b'],
      ['cafe\u0301', 'FAILED', 'c'],
      ['plain.ascii', 'SUCCEEDED', 'd'],
    ]);
    expect(lines).toEqual([
      'TYPE         STATE      NOTE',
      '画像.変換    QUEUED     a',
      'ok👍🏽         RUNNING    b',
      'cafe\u0301         FAILED     c',
      'plain.ascii  SUCCEEDED  d',
    ]);
  });

  it('prints line breaks, tabs, escapes and bidirectional overrides in a cell escaped, on its row', () => {
    const lines = printed(true, ['NAME', 'DESCRIPTION'], [['x', 'one\ntwo\tthree \u001b[2J\u001b[31mred \u202eevil']]);
    expect(lines).toEqual(['NAME  DESCRIPTION', 'x     one\\ntwo\\tthree \\u001b[2J\\u001b[31mred \\u202eevil']);
  });
});

describe('table in a pipe', () => {
  it('keeps one row per line and one tab between cells, whatever a cell holds', () => {
    const lines = printed(false, ['NAME', 'DESCRIPTION', 'N'], [['x', 'one\ntwo\tthree\r', '1']]);
    expect(lines).toEqual(['x\tone\\ntwo\\tthree\\r\t1']);
  });
});

describe('displayWidth and fitWidth', () => {
  it('count screen columns per character as seen, and cut between them', () => {
    expect(['abc', '日本語', 'ｆｕｌｌ', 'ｶﾀｶﾅ', 'cafe\u0301', '👍🏽', '🇫🇷', '👨‍👩‍👧', '❤️', '❤', '1️⃣', 'a\u200bb', '한국'].map(displayWidth)).toEqual([
      3, 6, 8, 4, 4, 2, 2, 2, 2, 1, 2, 2, 4,
    ]);
    expect(fitWidth('ab日本語', 5)).toBe('ab日');
    expect(fitWidth('ab👨‍👩‍👧c', 3)).toBe('ab');
    expect(fitWidth('ab👨‍👩‍👧c', 4)).toBe('ab👨‍👩‍👧');
    expect(fitWidth('plain', 10)).toBe('plain');
  });
});
