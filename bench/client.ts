/**
 * The load generator's clients: GraphQL over HTTP (the SDK's node:http transport, `sdk/http.ts`: `fetch`
 * would take about 0.4 ms of CPU per request from the two cores everything runs on) and graphql-ws over
 * `ws`, as an application would use them. No query batching: one operation per HTTP request.
 */
import { createClient, type Client } from 'graphql-ws/client';
import WebSocket from 'ws';
import { nodePost } from '../sdk/http.js';

const { post } = nodePost();

/** POSTs a JSON body; resolves with the status and the parsed JSON answer. */
async function postJson(url: string, body: string): Promise<{ status: number; json: unknown }> {
  const res = await post(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
  return { status: res.status, json: JSON.parse(await res.text()) };
}

export interface GqlResult<T> {
  data?: T;
  errors?: { message: string; extensions?: { code?: string } }[];
}

/** One GraphQL operation over HTTP; throws on transport errors and GraphQL errors. */
export async function gql<T>(url: string, query: string, variables?: Record<string, unknown>): Promise<T> {
  const res = await postJson(url, JSON.stringify({ query, variables }));
  const body = res.json as GqlResult<T>;
  if (body.errors?.length || !body.data) throw new Error(`GraphQL ${res.status}: ${JSON.stringify(body.errors ?? body)}`);
  return body.data;
}

export const SUBMIT = /* GraphQL */ `
  mutation Submit($input: SubmitJobInput!) {
    submitJob(input: $input) { job { id } userErrors { code message } }
  }
`;

export const PROGRESS = /* GraphQL */ `
  subscription Progress($id: ID!) {
    jobProgress(id: $id) { jobId seq state progress message }
  }
`;

/** Submits one job; returns its id. */
export async function submitJob(url: string, type: string, payload: unknown): Promise<string> {
  const d = await gql<{ submitJob: { job: { id: string } | null; userErrors: { code: string; message: string }[] } }>(url, SUBMIT, {
    input: { type, payload },
  });
  if (!d.submitJob.job) throw new Error(`submitJob refused: ${JSON.stringify(d.submitJob.userErrors)}`);
  return d.submitJob.job.id;
}

/** The bulk mutation, when the API has one: its name and the selection that yields the job ids. */
export interface BulkApi {
  field: string;
  query: string;
}

/** Looks for `submitJobs(inputs: [SubmitJobInput!]!)` by introspection; null when the API has none. */
export async function findBulkApi(url: string): Promise<BulkApi | null> {
  const d = await gql<{ __schema: { mutationType: { fields: { name: string; type: { name: string | null; ofType: { name: string | null } | null } }[] } } }>(
    url,
    `{ __schema { mutationType { fields { name type { name ofType { name } } } } } }`,
  );
  const f = d.__schema.mutationType.fields.find((x) => x.name === 'submitJobs');
  if (!f) return null;
  const payloadType = f.type.name ?? f.type.ofType?.name;
  const t = await gql<{ __type: { fields: { name: string }[] } }>(url, `query($n: String!) { __type(name: $n) { fields { name } } }`, {
    n: payloadType,
  });
  const names = t.__type.fields.map((x) => x.name);
  if (!names.includes('jobs')) return null;
  return {
    field: 'submitJobs',
    query: `mutation Bulk($inputs: [SubmitJobInput!]!) { submitJobs(inputs: $inputs) { jobs { id } ${names.includes('userErrors') ? 'userErrors { code message }' : ''} } }`,
  };
}

/** Submits a batch through the bulk mutation; returns the ids. */
export async function submitBulk(url: string, api: BulkApi, inputs: { type: string; payload: unknown }[]): Promise<string[]> {
  const d = await gql<Record<string, { jobs: { id: string }[] | null; userErrors?: unknown[] }>>(url, api.query, { inputs });
  const r = d[api.field]!;
  if (!r.jobs) throw new Error(`submitJobs refused: ${JSON.stringify(r.userErrors)}`);
  return r.jobs.map((j) => j.id);
}

/** What `follow()` needs of a client: graphql-ws' `Client.subscribe` signature. */
export type Subscriber = Pick<Client, 'subscribe'>;

/**
 * A graphql-transport-ws connection reduced to what the fan-out's subscribers need: operations by id, each
 * message parsed once and handed to its operation. graphql-ws' client hands every message to every
 * operation's listener on the connection (each checks the id), which at 10 subscriptions per connection and
 * 100,000 messages a second made the load generator take half of the machine: the delivery latency it
 * measured was its own.
 */
export async function leanWsConnection(url: string): Promise<Subscriber & { close(): Promise<void> }> {
  type Sink = Parameters<Client['subscribe']>[1];
  const ws = new WebSocket(url, 'graphql-transport-ws');
  const sinks = new Map<string, Sink>();
  let next = 0;
  const closed = new Promise<void>((r) => ws.once('close', () => r()));
  await new Promise<void>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => ws.send(JSON.stringify({ type: 'connection_init', payload: {} })));
    ws.on('message', (data) => {
      const m = JSON.parse(String(data)) as { type: string; id?: string; payload?: unknown };
      if (m.type === 'connection_ack') return resolve();
      if (m.type === 'ping') return ws.send('{"type":"pong"}');
      const sink = m.id === undefined ? undefined : sinks.get(m.id);
      if (!sink) return;
      if (m.type === 'next') sink.next(m.payload as never);
      else if (m.type === 'error') (sinks.delete(m.id!), sink.error(m.payload));
      else if (m.type === 'complete') (sinks.delete(m.id!), sink.complete());
    });
    ws.once('close', (code, reason) => {
      const e = new Error(`socket closed: ${code} ${String(reason)}`);
      reject(e);
      for (const sink of sinks.values()) sink.error(e);
      sinks.clear();
    });
  });
  return {
    subscribe(payload, sink) {
      const id = String(++next);
      sinks.set(id, sink);
      ws.send(JSON.stringify({ id, type: 'subscribe', payload }));
      return () => {
        if (sinks.delete(id) && ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ id, type: 'complete' }));
      };
    },
    close() {
      ws.close(1000);
      return closed;
    },
  };
}

/** A graphql-ws client that connects at once. */
export function wsClient(url: string): Client {
  return createClient({ url, webSocketImpl: WebSocket, lazy: false, retryAttempts: 0, keepAlive: 0 });
}

/** Resolves once the client's socket is open and acknowledged. */
export function connected(client: Client): Promise<void> {
  return new Promise((resolve, reject) => {
    const offC = client.on('connected', () => (offC(), offE(), resolve()));
    const offE = client.on('error', (e) => (offC(), offE(), reject(e instanceof Error ? e : new Error(String(e)))));
  });
}
