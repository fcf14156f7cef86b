/**
 * The README's settings tables (Configuration; Security › Limits; Operations › Notification, metrics and
 * tracing settings) are those of src/config.ts: every setting it reads has one row, every row names a setting
 * it reads, and the default a row gives is the value `loadConfig({})` parses.
 */
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { loadConfig, SETTING_NAMES } from '../../src/config.js';

/** Settings whose default depends on another one: the row says so in words, not as a value. */
const COMPUTED_DEFAULTS: Record<string, string> = {
  GRAPHQL_INTROSPECTION: 'unset, it follows NODE_ENV: on except in production',
};

/**
 * Limits rows whose setting cell starts like this derive a limit from settings that have rows of their own
 * ("the larger of HTTP_BODY_LIMIT_BYTES and WS_MAX_MESSAGE_BYTES"): not a row of those settings.
 */
const DERIVED_ROW = /^the larger of /;

interface Row {
  names: string[];
  defaultCell: string;
}

/** The rows of every table with a `variable` or `Setting (env)` column and a `default` one. */
function settingsRows(markdown: string): Row[] {
  const cells = (line: string) => line.trim().replace(/^\||\|$/g, '').split('|').map((c) => c.trim());
  const lines = markdown.split('\n');
  const rows: Row[] = [];
  lines.forEach((line, i) => {
    if (!line.startsWith('|') || lines[i - 1]?.startsWith('|')) return; // a table starts with its header
    const header = cells(line).map((c) => c.toLowerCase());
    const nameAt = header.findIndex((c) => c === 'variable' || c === 'setting (env)');
    const defaultAt = header.indexOf('default');
    if (nameAt < 0 || defaultAt < 0) return;
    for (let j = i + 2; lines[j]?.startsWith('|'); j++) {
      const row = cells(lines[j]!);
      expect(row, `README line ${j + 1}: one cell per column`).toHaveLength(header.length);
      const setting = row[nameAt]!;
      if (DERIVED_ROW.test(setting)) continue;
      // `MAX_PAYLOAD_BYTES` in src/jobs/payload-check.ts is a constant of the code, not a setting.
      const names = [...setting.matchAll(/`([A-Z][A-Z0-9_]+)`(?! in src\/)/g)].map((m) => m[1]!);
      if (names.length) rows.push({ names, defaultCell: row[defaultAt]! });
    }
  });
  return rows;
}

/** The numbers a default cell gives, in order: `10,000` and `10 000` are 10000, `2 MiB` bytes, `10 s` ms. */
function quantities(cell: string): number[] {
  const unit: Record<string, number> = { KiB: 1024, MiB: 1024 * 1024, s: 1000 };
  return [...cell.matchAll(/(\d{1,3}(?:[ ,]\d{3})+|\d+(?:\.\d+)?)(?: (KiB|MiB|s)\b)?/g)].map(
    ([, digits, u]) => Number(digits!.replace(/[ ,]/g, '')) * (u ? unit[u]! : 1),
  );
}

/** Whether a default cell (backticks removed) says `value`, as config parses it; on/off in any of the words config takes. */
function says(cell: string, value: unknown): boolean {
  if (value === undefined || value === '' || (Array.isArray(value) && value.length === 0) || (value instanceof Map && value.size === 0)) return ['unset', 'empty', '(empty)'].includes(cell);
  if (typeof value === 'boolean') return (value ? ['1', 'true', 'on', 'yes'] : ['0', 'false', 'off', 'no']).includes(cell);
  if (Array.isArray(value)) return cell === value.join(',');
  if (typeof value === 'number') return quantities(cell).join() === String(value);
  return cell === value;
}

/** Whether a row's default cell says the values of its settings: a row of several gives their numbers in order. */
const rowSays = (cell: string, values: unknown[]) => (values.length === 1 ? says(cell, values[0]) : quantities(cell).join() === values.join());

const rows = settingsRows(readFileSync(new URL('../../README.md', import.meta.url), 'utf8'));
const documented = rows.flatMap((r) => r.names);

it('has a README row for every setting config reads, and reads every setting the README has a row for', () => {
  expect(SETTING_NAMES.filter((n) => !documented.includes(n)), 'read by src/config.ts, no README row').toEqual([]);
  expect(documented.filter((n) => !(SETTING_NAMES as readonly string[]).includes(n)), 'a README row, not read by src/config.ts').toEqual([]);
  expect(documented.filter((n, i) => documented.indexOf(n) !== i), 'more than one README row').toEqual([]);
});

it('gives each setting the default config parses from an empty environment', () => {
  const config: Record<string, unknown> = loadConfig({});
  const wrong: string[] = [];
  for (const { names, defaultCell } of rows) {
    const values = names.filter((n) => !(n in COMPUTED_DEFAULTS)).map((n) => config[n]);
    if (values.length && !rowSays(defaultCell.replaceAll('`', ''), values)) wrong.push(`${names.join(', ')}: README "${defaultCell}", config ${JSON.stringify(values)}`);
  }
  expect(wrong).toEqual([]);
});
