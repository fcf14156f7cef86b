/**
 * Only postgres.js' lost type query is survived; other uncaught errors and
 * unhandled rejections still end the process.
 */
import { spawnSync } from 'node:child_process';
import { expect, it } from 'vitest';
import { isPostgresTypeFetchReset } from '../../src/process.js';

const typeFetch = `
      select b.oid, b.typarray
      from pg_catalog.pg_type a
      left join pg_catalog.pg_type b on b.oid = a.typelem`;

it('recognises a new connection lost during postgres.js’ type query, and nothing else', () => {
  const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', query: typeFetch });
  expect(isPostgresTypeFetchReset(reset)).toBe(true);
  expect(isPostgresTypeFetchReset({ code: 'CONNECTION_CLOSED', query: typeFetch })).toBe(true); // as vitest serialises it
  expect(isPostgresTypeFetchReset(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', query: 'select 1' }))).toBe(false);
  expect(isPostgresTypeFetchReset(Object.assign(new Error('syntax'), { code: '42601', query: typeFetch }))).toBe(false);
  expect(isPostgresTypeFetchReset(null)).toBe(false);
});

/** Runs a process that installs the handlers, then rejects `reason` unhandled; answers its exit code. */
function exitAfterRejecting(reason: string): number | null {
  const script = `
    import { handleUncaughtErrors } from ${JSON.stringify(new URL('../../src/process.ts', import.meta.url).pathname)};
    import { createLogger } from ${JSON.stringify(new URL('../../src/log.ts', import.meta.url).pathname)};
    handleUncaughtErrors(createLogger('silent'));
    void Promise.reject(${reason});
    setTimeout(() => process.exit(0), 300);`;
  return spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: 'ignore' }).status;
}

it('a process survives that rejection and still ends on any other', () => {
  expect(exitAfterRejecting(`Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', query: ${JSON.stringify(typeFetch)} })`)).toBe(0);
  expect(exitAfterRejecting(`new Error('a bug')`)).toBe(1);
});
