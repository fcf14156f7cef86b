/** Types of database-url.mjs (plain JavaScript, shared by `npm start` and the app). */
export interface DatabaseUrl {
  /** The hosts as written (`host:port`), in the order the driver tries them; none for a URL without a host. */
  hosts: string[];
  /** The database's name (empty when the URL names none). */
  database: string;
  /** The URL's query parameters. */
  params: URLSearchParams;
  /** The same URL naming database `name`. */
  withDatabase(name: string): string;
}
/** Reads a DATABASE_URL as postgres.js does; throws as `URL` does for what it cannot read. */
export function readDatabaseUrl(url: string): DatabaseUrl;
