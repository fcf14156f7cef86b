/**
 * `recordset`: a batch's rows reach PostgreSQL (the submit's insert) as one JSON document, or from ARRAYS_FROM
 * rows as one array per column. In both forms, whatever a text or JSON value holds, each row comes out of the
 * row set as it went in, through a prepared statement as the pools send them.
 */
import { expect, it } from 'vitest';
import { ARRAYS_FROM, recordset, type RecordsetColumn } from '../../src/db/recordset.js';
import { useTestDb } from '../support/app.js';

const t = useTestDb();

type Row = Record<string, unknown>;
const COLUMNS: RecordsetColumn<Row>[] = [
  ['i', 'int', (r) => r.i],
  ['id', 'uuid', (r) => r.id],
  ['name', 'text', (r) => r.name],
  ['doc', 'jsonb', (r) => r.doc],
  ['at', 'timestamptz', (r) => r.at],
  ['big', 'bigint', (r) => r.big],
  ['ratio', 'real', (r) => r.ratio],
  ['place', 'int', (_, i) => i],
];

const roundTrip = (rows: Row[]) => {
  const x = recordset(COLUMNS, rows);
  return t.db.sql.unsafe<Record<string, unknown>[]>(`select i, id, name, doc, at, big::float8 as big, ratio, place from ${x.from} as x order by i`, x.params as never[]);
};

it.each([
  ['a small batch (one JSON document)', 1],
  ['a big batch (an array per column)', Math.ceil(ARRAYS_FROM / 11)],
])('hands each row of %s over as it was, whatever its texts and JSON values hold', async (_, copies) => {
  const awkward = ['', 'NULL', 'null', '"quoted"', 'back\\slash', 'a,b', '{braces}', ' spaced ', 'ümlaut ✓ 🚀', 'line\nbreak\ttab', "it's"];
  const docs = [{ a: '"x"', b: ['\\', null, { c: 'NULL' }] }, 'a JSON string', 42.5, [], {}, true, { nested: { deep: [1, [2, [3]]] } }, '{', 'NULL', '\\"', { k: 'ümlaut ✓ 🚀' }];
  const rows = Array.from({ length: copies * awkward.length }, (_, i) => ({
    i,
    id: `0190a1b2-c3d4-7e5f-8a9b-${String(i).padStart(12, '0')}`,
    name: awkward[i % awkward.length],
    doc: docs[i % docs.length],
    at: new Date(Date.UTC(2026, 11, 7, 12, 0, i, 125)),
    big: 2 ** 40 + i,
    ratio: 0.25 * i,
  }));
  expect(rows.length >= ARRAYS_FROM).toBe(copies > 1);
  const out = await roundTrip(rows);
  expect(out).toEqual(rows.map((r, place) => ({ ...r, place })));
});

it.each([
  ['a small batch', 2],
  ['a big batch', ARRAYS_FROM],
])('reads undefined and null as SQL NULL in every column of %s', async (_, n) => {
  const rows = Array.from({ length: n }, (_, i) => (i % 2 ? { i, id: null, name: null, doc: null, at: null, big: null, ratio: null } : { i }));
  const out = await roundTrip(rows);
  expect(out).toEqual(rows.map((_, i) => ({ i, id: null, name: null, doc: null, at: null, big: null, ratio: null, place: i })));
});

it('makes no rows of an empty batch', async () => {
  expect(await roundTrip([])).toEqual([]);
});
