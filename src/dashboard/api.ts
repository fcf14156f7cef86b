// The dashboard's only way to the server: GraphQL over HTTP at /graphql with `Authorization: Bearer <key>`.
// Every failure (HTTP status, GraphQL errors with their code, no answer at all) comes back as a DashboardError
// with a message fit to show; nothing is swallowed.

/** Injected by the server (src/http/pages.ts) as an inline script before this bundle runs. */
interface LongrunConfig {
  /** `{ Authorization: 'Bearer <development key>' }` for a browser on the server's machine. */
  defaultHeaders?: Record<string, string>;
}

declare global {
  interface Window {
    LONGRUN?: LongrunConfig;
  }
}

const KEY_STORAGE = 'longrun.dashboard.key';

/** The key the operator typed (kept for this tab's session), else the injected development key. */
export function currentKey(): { key: string | null; source: 'typed' | 'development' | 'none' } {
  const typed = sessionStorage.getItem(KEY_STORAGE);
  if (typed) return { key: typed, source: 'typed' };
  const dev = window.LONGRUN?.defaultHeaders?.Authorization?.replace(/^Bearer\s+/i, '');
  return dev ? { key: dev, source: 'development' } : { key: null, source: 'none' };
}

export function setTypedKey(key: string | null): void {
  if (key) sessionStorage.setItem(KEY_STORAGE, key);
  else sessionStorage.removeItem(KEY_STORAGE);
}

export class DashboardError extends Error {
  override name = 'DashboardError';
}

interface GraphqlError {
  message: string;
  extensions?: { code?: string };
}

/** `CODE: message` per error, as the server sent them. */
const describe = (errors: GraphqlError[]) =>
  errors.map((e) => (e.extensions?.code ? `${e.extensions.code}: ${e.message}` : e.message)).join('; ');

/** Runs one operation; answers its `data`, or throws a DashboardError saying what went wrong. */
export async function gql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
  const { key } = currentKey();
  let res: Response;
  try {
    res = await fetch('/graphql', {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(key ? { authorization: `Bearer ${key}` } : {}),
      },
      body: JSON.stringify({ query, variables }),
    });
  } catch (e) {
    throw new DashboardError(`network error: the server did not answer (${e instanceof Error ? e.message : String(e)})`);
  }
  let body: { data?: T | null; errors?: GraphqlError[] } | undefined;
  try {
    body = await res.json();
  } catch {
    throw new DashboardError(`HTTP ${res.status}: the answer is not JSON`);
  }
  if (body?.errors?.length) throw new DashboardError(describe(body.errors));
  if (!res.ok || !body?.data) throw new DashboardError(`HTTP ${res.status}: no data`);
  return body.data;
}
