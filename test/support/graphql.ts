/**
 * Raw GraphQL over HTTP and graphql-ws for tests that check the wire (status codes, error bodies).
 * Requests to a test app carry its default API key (see `startTestApp`) unless the caller gives its own
 * `authorization` header / connectionParams (`NO_KEY` sends none).
 */
import { createClient, type Client } from 'graphql-ws/client';
import WebSocket from 'ws';

/** Default key per server (origin), set by startTestApp. */
const defaultKeys = new Map<string, string>();
const originOf = (url: string) => new URL(url.replace(/^ws/, 'http')).origin;

export function setDefaultKey(url: string, key: string | null): void {
  if (key) defaultKeys.set(originOf(url), key);
  else defaultKeys.delete(originOf(url));
}

/** `Authorization` value of a key. */
export const bearer = (key: string) => `Bearer ${key}`;
/** Headers / connectionParams that carry no key at all. */
export const NO_KEY: Record<string, string> = Object.freeze({}) as Record<string, string>;

function withDefaultKey(url: string, given: Record<string, unknown> | undefined): Record<string, unknown> {
  if (given) return given;
  const key = defaultKeys.get(originOf(url));
  return key ? { authorization: bearer(key) } : {};
}

export interface GqlResponse<T = any> {
  status: number;
  body: { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
}

export async function gql<T = any>(
  url: string,
  query: string,
  variables?: Record<string, unknown>,
  headers?: Record<string, string>,
): Promise<GqlResponse<T>> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(withDefaultKey(url, headers) as Record<string, string>) },
    body: JSON.stringify({ query, variables }),
  });
  const text = await res.text();
  let body: GqlResponse<T>['body'];
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`non-JSON response ${res.status}: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

export function wsClient(url: string, connectionParams?: Record<string, unknown>): Client {
  return createClient({ url, webSocketImpl: WebSocket, connectionParams: withDefaultKey(url, connectionParams), retryAttempts: 0, lazy: true });
}

/** Collects every result of a subscription until it completes (or errors). */
export async function collect<T = any>(
  client: Client,
  query: string,
  variables: Record<string, unknown>,
  onEach?: (value: T) => void,
): Promise<{ values: T[]; errors: unknown[] }> {
  const values: T[] = [];
  const errors: unknown[] = [];
  try {
    for await (const r of client.iterate({ query, variables })) {
      if (r.errors) errors.push(...r.errors);
      if (r.data) {
        const v = Object.values(r.data)[0] as T;
        values.push(v);
        onEach?.(v);
      }
    }
  } catch (e) {
    // An `error` message (the operation was refused) arrives as the list of its errors.
    if (Array.isArray(e)) errors.push(...e);
    else errors.push(e);
  }
  return { values, errors };
}

export const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) {
    submitJob(input: $input) {
      job { id type state attempts maxAttempts payload createdAt }
      userErrors { code field message }
    }
  }
`;

export const JOB = /* GraphQL */ `
  query Job($id: ID!) {
    job(id: $id) {
      id type state payload progress progressMessage attempts maxAttempts result error
      createdAt startedAt finishedAt nextAttemptAt
      attemptErrors { attempt message at }
      events { seq state progress message attempt at }
    }
  }
`;

export const PROGRESS = /* GraphQL */ `
  subscription Progress($id: ID!, $after: Int) {
    jobProgress(id: $id, after: $after) { jobId seq state progress message attempt at result error }
  }
`;

/** Polls `job(id)` until `done(job)` or the timeout. */
export async function waitForJob(
  url: string,
  id: string,
  done: (job: any) => boolean,
  timeoutMs = 30_000,
): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let job: any;
  while (Date.now() < deadline) {
    job = (await gql(url, JOB, { id })).body.data?.job;
    if (job && done(job)) return job;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`job ${id} did not get there in ${timeoutMs} ms; last seen ${JSON.stringify(job)}`);
}
