/**
 * The longrun SDK: typed calls over HTTP and live updates over graphql-ws, on top of the documents that
 * GraphQL Code Generator turns into `sdk/generated/` (from `schema/` and `sdk/operations/`).
 *
 * @example
 * const longrun = createClient({ url: 'http://localhost:4000/graphql', token: process.env.LONGRUN_TOKEN });
 * const { job } = await longrun.submitJob({ type: 'demo.sleep', payload: { ms: 2000, steps: 4 } });
 * for await (const u of longrun.watchJob(job!.id)) console.log(u.state, u.progress, u.message);
 * await longrun.close();
 */
import { createClient as createWsClient, type Client as WsClient } from 'graphql-ws/client';
import WebSocket from 'ws';
import {
  CancelJobDocument,
  DeadLettersDocument,
  JobDocument,
  JobProgressDocument,
  JobsDocument,
  JobTypesDocument,
  JobUpdatesDocument,
  PurgeJobsDocument,
  QueueStatsDocument,
  RetryJobDocument,
  SubmitJobDocument,
  SubmitJobsDocument,
  type CancelJobMutation,
  type DeadLettersQuery,
  type DeadLettersQueryVariables,
  type JobQuery,
  type JobsQuery,
  type JobsQueryVariables,
  type JobTypesQuery,
  type JobUpdateFieldsFragment,
  type JobUpdatesFilter,
  type QueueStatsQuery,
  type PurgeJobsInput,
  type PurgeJobsMutation,
  type RetryJobMutation,
  type SubmitJobInput,
  type SubmitJobMutation,
  type SubmitJobsMutation,
  type TypedDocumentString,
} from './generated/graphql.js';
import { LongrunError, errorFromClose, isRetryableClose, type GraphQLErrorBody } from './errors.js';
import { nodePost, type Post } from './http.js';
import { submitBatcher } from './submit-batcher.js';

/** One update of a job, as `watchJob` and `jobUpdates` yield it. */
export type JobUpdate = JobUpdateFieldsFragment;

export interface ClientOptions {
  /** HTTP endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /** WebSocket endpoint. @default `url` with http(s) replaced by ws(s) */
  wsUrl?: string;
  /** Bearer token (blanks around it left out): `Authorization: Bearer …` and graphql-ws `connectionParams.authorization`. */
  token?: string | undefined;
  /** How requests are sent. Default: `node:http(s)` with keep-alive (`sdk/http.ts`), a quarter of `fetch`'s CPU. */
  fetch?: typeof fetch;
  /** How many times `watchJob` and `jobUpdates` reconnect in a row after losing the connection. @default 20 */
  reconnectAttempts?: number;
  /** First reconnect delay; it doubles up to 5 s. @default 250 */
  reconnectDelayMs?: number;
  /**
   * The WebSocket is pinged after this long without an answer from the server, and taken as lost when the
   * ping is not answered within as long again: a connection that died silently (no close reaches the
   * client: a NAT or firewall dropped it, the network went away) is reconnected as after any other loss,
   * instead of waiting for ever. @default 10000
   */
  keepAliveMs?: number;
  /**
   * Concurrent `submitJob` calls travel together as one `submitJobs` request; each call still gets its own
   * answer, errors included (`sdk/submit-batcher.ts`). `false` sends one request per call. @default true
   */
  batchSubmits?: boolean;
}

export interface WatchOptions {
  /** Resume after this seq (from an earlier update); without it the job's current state comes first. */
  after?: number;
  /** Stops the watch (the iterator ends). */
  signal?: AbortSignal;
}

export interface JobUpdatesOptions {
  /**
   * Replay the recorded changes at or after this instant first (the `at` of the last update you saw, as
   * yielded: an ISO 8601 string); updates the iterator yielded already are not yielded again.
   */
  since?: string;
  /** Stops the iterator. */
  signal?: AbortSignal;
}

/**
 * How far before the latest `at` it yielded `jobUpdates` resumes: a change's `at` is when its statement
 * started, so one that committed (and went out) a little later than another can carry an earlier `at`.
 */
export const RESUME_OVERLAP_MS = 5000;

export interface LongrunClient {
  /** Concurrent calls travel as one `submitJobs` request; each still gets its own answer (`batchSubmits`). */
  submitJob(input: SubmitJobInput): Promise<SubmitJobMutation['submitJob']>;
  submitJobs(inputs: SubmitJobInput[]): Promise<SubmitJobsMutation['submitJobs']>;
  job(id: string): Promise<JobQuery['job']>;
  jobs(args?: JobsQueryVariables): Promise<JobsQuery['jobs']>;
  /** FAILED jobs whose dead-letter copy is recorded, most recently dead-lettered first (`retryJob` replays one). */
  deadLetters(args?: DeadLettersQueryVariables): Promise<DeadLettersQuery['deadLetters']>;
  cancelJob(id: string): Promise<CancelJobMutation['cancelJob']>;
  retryJob(id: string): Promise<RetryJobMutation['retryJob']>;
  /** Admins only: deletes finished jobs (at most `limit` per call; call again while `hasMore`). */
  purgeJobs(input: PurgeJobsInput): Promise<PurgeJobsMutation['purgeJobs']>;
  queueStats(): Promise<QueueStatsQuery['queueStats']>;
  jobTypes(): Promise<JobTypesQuery['jobTypes']>;
  /**
   * The job's updates until it finishes (the iterator then ends). On network loss it reconnects and resumes
   * with `after: <last seq seen>`, so nothing is repeated or skipped. Throws a `LongrunError` (e.g. NOT_FOUND).
   */
  watchJob(id: string, options?: WatchOptions): AsyncIterableIterator<JobUpdate>;
  /**
   * Updates of many jobs (`jobUpdates`); never ends by itself: break out of the loop or abort. On network loss
   * it reconnects as `watchJob` does and resumes with `since`: the changes recorded while it was away come
   * first (state changes, attempt errors, recorded progress milestones; not every live progress report), and
   * no update is yielded twice. `options.since` replays from that instant at the start.
   */
  jobUpdates(filter?: JobUpdatesFilter, options?: JobUpdatesOptions): AsyncIterableIterator<JobUpdate>;
  /** Runs any generated document over HTTP. */
  request<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R>;
  /** Closes the WebSocket (open iterators end with an error). */
  close(): Promise<void>;
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

/** Creates a client. Nothing connects until the first call; the WebSocket opens with the first watch. */
export function createClient(o: ClientOptions): LongrunClient {
  const node = o.fetch ? null : nodePost();
  const doFetch: Post = o.fetch ?? node!.post;
  const token = o.token?.trim(); // a key read from a file ends in a line break, which no header may carry
  const authorization = token ? `Bearer ${token}` : undefined;
  const wsUrl = o.wsUrl ?? o.url.replace(/^http/, 'ws');
  const reconnectAttempts = o.reconnectAttempts ?? 20;
  const firstDelay = o.reconnectDelayMs ?? 250;
  const keepAliveMs = o.keepAliveMs ?? 10_000;
  let ws: WsClient | null = null;
  /** Ends the socket when a ping sent is not answered in keepAliveMs. */
  let pongDue: NodeJS.Timeout | undefined;
  /** WebSocket connections acknowledged so far; one or more: a failure since is a lost connection, worth retrying. */
  let connections = 0;

  const socket = (): WsClient => {
    if (ws) return ws;
    const c = createWsClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      lazy: true,
      // Reconnecting is done per watch (to resume with `after`), not by re-sending the same subscription.
      retryAttempts: 0,
      connectionParams: authorization ? { authorization } : {},
      // A silently dead connection never closes by itself: terminating it fails its subscriptions with a
      // retryable close (4499), and they reconnect.
      keepAlive: keepAliveMs,
      on: {
        connected: () => void connections++,
        ping: (received) => {
          if (!received) pongDue = setTimeout(() => c.terminate(), keepAliveMs).unref();
        },
        pong: (received) => received && clearTimeout(pongDue),
        closed: () => clearTimeout(pongDue),
      },
    });
    return (ws = c);
  };
  /** A subscription's failure as a LongrunError; one before the server was ever reached says so. */
  const subscriptionError = (e: unknown) => errorFromClose(e, connections > 0 ? null : wsUrl);

  /** Runs a document whose variables are JSON text already (the submit batcher's inputs are). */
  async function post<R, V>(document: TypedDocumentString<R, V>, variablesJson: string): Promise<R> {
    const res = await doFetch(o.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/graphql-response+json, application/json',
        ...(authorization ? { authorization } : {}),
      },
      body: `{"query":${JSON.stringify(document.toString())},"variables":${variablesJson}}`,
    }).catch((e: unknown) => {
      // fetch puts the system error in `cause`; node:http throws it.
      const err = e as { code?: string; cause?: { code?: string; message?: string } };
      throw new LongrunError(`cannot reach ${o.url}: ${err.cause?.code ?? err.code ?? err.cause?.message ?? String(e)}`, 'NETWORK', [], { cause: e });
    });
    const text = await res.text();
    let body: { data?: R | null; errors?: GraphQLErrorBody[] };
    try {
      body = JSON.parse(text);
    } catch {
      // Not a GraphQL answer (an HTML 404 page, a proxy's error): most often a URL without its /graphql path.
      const shown = text.replace(/\s+/g, ' ').trim().slice(0, 120);
      throw new LongrunError(
        `${o.url} answered HTTP ${res.status}, not a GraphQL response (is it longrun's /graphql endpoint?)${shown ? `: ${shown}` : ''}`,
        res.status >= 500 ? 'SERVICE_UNAVAILABLE' : 'BAD_REQUEST',
      );
    }
    if (body.errors?.length) throw LongrunError.from(body.errors);
    if (!body.data) throw new LongrunError(`HTTP ${res.status} without data`, 'INTERNAL_SERVER_ERROR');
    return body.data;
  }

  const request = <R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R> =>
    post(document, JSON.stringify(variables ?? {}));

  /** One subscription attempt; yields `field` of each result, throws GraphQL errors and close events. */
  async function* subscribeOnce<R extends Record<string, JobUpdate>>(query: string, variables: Record<string, unknown>, field: keyof R) {
    for await (const r of socket().iterate<R>({ query, variables })) {
      if (r.errors?.length) throw LongrunError.from(r.errors as GraphQLErrorBody[]);
      if (r.data) yield r.data[field] as JobUpdate;
    }
  }

  /** Whether a subscription's failure is the server saying a backing service is unavailable (try again). */
  const isUnavailable = (e: unknown): boolean =>
    (e instanceof LongrunError ? e : Array.isArray(e) ? LongrunError.from(e as GraphQLErrorBody[]) : null)?.code === 'SERVICE_UNAVAILABLE';

  /**
   * Yields the updates of the subscriptions `open` makes: after a lost connection, or a SERVICE_UNAVAILABLE
   * answer, it opens one again (backoff from `reconnectDelayMs` to 5 s, `reconnectAttempts` in a row: an update or a connection made
   * since the last failure starts the count again); it ends when one completes or `signal` aborts, and
   * throws any other failure as a LongrunError.
   */
  async function* resubscribing(open: () => AsyncGenerator<JobUpdate>, signal: AbortSignal | undefined): AsyncGenerator<JobUpdate> {
    let failures = 0;
    let connectionsAtFailure = connections;
    for (;;) {
      if (signal?.aborted) return;
      const it = open();
      const stop = () => void it.return(undefined);
      signal?.addEventListener('abort', stop, { once: true });
      try {
        for await (const u of it) {
          failures = 0;
          yield u;
        }
        return; // completed (the job finished) or aborted
      } catch (e) {
        // A server never reached (wrong URL, not running) fails at once, as every other call does. One that
        // answered SERVICE_UNAVAILABLE (its database unreachable) is tried again like a lost connection; the
        // connection it made for that answer does not start the count again.
        const unavailable = isUnavailable(e);
        if (connections > connectionsAtFailure && !unavailable) failures = 0; // it was connected again since the last failure
        connectionsAtFailure = connections;
        const again = unavailable || (!(e instanceof LongrunError) && isRetryableClose(e));
        if (!again || connections === 0 || ++failures > reconnectAttempts) throw subscriptionError(e);
        await sleep(Math.min(5000, firstDelay * 2 ** (failures - 1)), signal);
      } finally {
        signal?.removeEventListener('abort', stop);
      }
    }
  }

  async function* watchJob(id: string, w: WatchOptions = {}): AsyncGenerator<JobUpdate> {
    let lastSeq = w.after;
    const open = () => subscribeOnce<{ jobProgress: JobUpdate }>(JobProgressDocument.toString(), { id, after: lastSeq ?? null }, 'jobProgress');
    for await (const u of resubscribing(open, w.signal)) {
      if (lastSeq !== undefined && u.seq <= lastSeq) continue;
      lastSeq = u.seq;
      yield u;
    }
  }

  /**
   * Resumes from a little before the latest `at` yielded (RESUME_OVERLAP_MS) and drops what it yielded
   * already by the job's last seq (seqs grow per job), remembered for the 10,000 most recently active jobs.
   * Without `options.since`, the first subscription is live only and its start (this clock) counts as the
   * latest `at`: a reconnect before anything was yielded still replays what happened meanwhile.
   */
  async function* jobUpdates(filter: JobUpdatesFilter = {}, opts: JobUpdatesOptions = {}): AsyncGenerator<JobUpdate> {
    let latest: number | null = opts.since === undefined ? Date.now() : null;
    let opened = false;
    const lastSeq = new Map<string, number>();
    const since = () => {
      const first = !opened;
      opened = true;
      if (first || latest === null) return opts.since ?? null;
      return new Date(latest - RESUME_OVERLAP_MS).toISOString();
    };
    const open = () => subscribeOnce<{ jobUpdates: JobUpdate }>(JobUpdatesDocument.toString(), { filter, since: since() }, 'jobUpdates');
    for await (const u of resubscribing(open, opts.signal)) {
      if (u.seq <= (lastSeq.get(u.jobId) ?? 0)) continue;
      lastSeq.delete(u.jobId);
      lastSeq.set(u.jobId, u.seq);
      if (lastSeq.size > 10_000) lastSeq.delete(lastSeq.keys().next().value!);
      const at = Date.parse(u.at);
      if (latest === null || at > latest) latest = at;
      yield u;
    }
  }

  /** The two submit mutations, for inputs serialised already (as the batcher holds them). */
  const batched = {
    one: async (inputJson: string) => (await post(SubmitJobDocument, `{"input":${inputJson}}`)).submitJob,
    many: async (inputsJson: string[]) => (await post(SubmitJobsDocument, `{"inputs":[${inputsJson.join(',')}]}`)).submitJobs,
  };
  const submitOne = (input: SubmitJobInput) => batched.one(JSON.stringify(input));
  const submitJobs = (inputs: SubmitJobInput[]) => batched.many(inputs.map((i) => JSON.stringify(i)));

  return {
    request,
    submitJob: o.batchSubmits === false ? submitOne : submitBatcher(batched),
    submitJobs,
    job: async (id) => (await request(JobDocument, { id })).job,
    jobs: async (args = {}) => (await request(JobsDocument, args)).jobs,
    deadLetters: async (args = {}) => (await request(DeadLettersDocument, args)).deadLetters,
    cancelJob: async (id) => (await request(CancelJobDocument, { id })).cancelJob,
    retryJob: async (id) => (await request(RetryJobDocument, { id })).retryJob,
    purgeJobs: async (input) => (await request(PurgeJobsDocument, { input })).purgeJobs,
    queueStats: async () => (await request(QueueStatsDocument)).queueStats,
    jobTypes: async () => (await request(JobTypesDocument)).jobTypes,
    watchJob,
    jobUpdates,
    async close() {
      const c = ws;
      ws = null;
      clearTimeout(pongDue);
      node?.close();
      await c?.dispose();
    },
  };
}
