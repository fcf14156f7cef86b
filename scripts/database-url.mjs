/**
 * A DATABASE_URL as postgres.js reads it, in one place for `npm start` (scripts/services.mjs, plain JavaScript,
 * run before any TypeScript) and the app (src/db/migrate.ts). `URL` refuses several hosts
 * (`postgres://h1:5432,h2:5432/db`, which the driver tries in turn), so the hosts are read apart from the rest.
 * Throws as `URL` does (`ERR_INVALID_URL`) for what it cannot read.
 */
export function readDatabaseUrl(url) {
  const pathAt = url.indexOf('://') + 3;
  const authority = url.slice(pathAt).split(/[/?#]/)[0] ?? '';
  const hosts = authority.slice(authority.lastIndexOf('@') + 1);
  const first = new URL(hosts.includes(',') ? url.replace(hosts, hosts.split(',')[0] ?? '') : url);
  const rest = url.slice(pathAt + authority.length);
  const query = rest.search(/[?#]/);
  return {
    hosts: hosts ? hosts.split(',') : [],
    database: decodeURIComponent(first.pathname.slice(1)),
    params: first.searchParams,
    withDatabase: (name) => `${url.slice(0, pathAt + authority.length)}/${encodeURIComponent(name)}${query < 0 ? '' : rest.slice(query)}`,
  };
}
