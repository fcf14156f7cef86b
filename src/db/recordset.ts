/**
 * A batch's rows as a statement's input: a row set to put where a table goes. A small batch is one JSON
 * document (`jsonb_to_recordset($1::text::jsonb)`); a batch of ARRAYS_FROM rows or more is one array
 * parameter per column, unnested (`unnest($1::uuid[], $2::text[], …)`).
 *
 * PostgreSQL parses JSON slowly (about 20 MB/s on the project's machines): a submit's document repeats every
 * key, the id, owner, type and subject in each row, and parsing a 1,000-job one was a third of the insert
 * (12–14 ms of 35–40); its arrays take about 4 ms, and only the `jsonb` columns' values (the payloads) are
 * still parsed as JSON, each on its own. But each array is a parameter that postgres.js serialises and
 * PostgreSQL parses on its own, which costs more than the document for a few rows: a one-job insert took
 * 0.36 ms with the document and 0.48 with arrays, twenty jobs about the same, fifty 16 % less with arrays
 * (2026-12-07, docs/performance.md).
 *
 * Used by the inserts of many rows: a submit's jobs (db/jobs.ts), a replay's outbox entries (db/replay.ts).
 * The transitions keep their JSON rows, which are small (about 3 µs of PostgreSQL's time a row): a generic
 * plan estimates an `unnest` of parameters at 10 rows and joined it to `jobs` by a nested loop, which made a
 * claim of 200 jobs take 6–16 ms instead of 5.4. A row set joined to a table must be checked for that.
 */

/** The smallest batch sent as arrays; smaller ones go as one JSON document. */
export const ARRAYS_FROM = 50;

/** A column of the row set: its name in the statement, its PostgreSQL type, and its value in a row (at index `i`). */
export type RecordsetColumn<R> = readonly [name: string, type: string, value: (row: R, i: number) => unknown];

/**
 * The row set of `rows` over `columns`, its parameters from `$1` on: `from` is a subquery to put where a table
 * goes (give it an alias), `params` its values. Undefined and null are SQL NULL; a Date is sent
 * as its ISO text (as an array element too: postgres.js would type an array of Dates as one timestamptz).
 */
export function recordset<R>(columns: readonly RecordsetColumn<R>[], rows: readonly R[]): { from: string; params: unknown[] } {
  const names = columns.map(([name]) => name).join(', ');
  if (rows.length < ARRAYS_FROM) {
    // A value left out is null in the statement: less to encode and parse per row.
    const doc = rows.map((r, i) => {
      const o: Record<string, unknown> = {};
      for (const [name, , value] of columns) {
        const v = value(r, i);
        if (v !== undefined && v !== null) o[name] = v;
      }
      return o;
    });
    const types = columns.map(([name, type]) => `${name} ${type}`).join(', ');
    return { from: `(select ${names} from jsonb_to_recordset($1::text::jsonb) as u(${types}))`, params: [JSON.stringify(doc)] };
  }
  const params = columns.map(([, type, value]) =>
    rows.map((r, i) => {
      const v = value(r, i);
      if (v === undefined || v === null) return null;
      if (type === 'jsonb') return JSON.stringify(v);
      return v instanceof Date ? v.toISOString() : v;
    }),
  );
  const arrays = columns.map(([, type], k) => `$${k + 1}::${type === 'jsonb' ? 'text' : type}[]`).join(', ');
  const select = columns.map(([name, type]) => (type === 'jsonb' ? `${name}::jsonb as ${name}` : name)).join(', ');
  return { from: `(select ${select} from unnest(${arrays}) as u(${names}))`, params };
}
