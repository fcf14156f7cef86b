/**
 * The longrun SDK's client: its options, the `LongrunClient` interface, and the request methods (typed calls
 * over HTTP, sent by `sdk/requests.ts`), on top of the documents that GraphQL Code Generator turns into
 * `sdk/generated/` (from `schema/` and `sdk/operations/`). The live updates over graphql-ws (`watchJob`,
 * `jobUpdates`) are in `sdk/subscriptions.ts` (and the files it names); concurrent `submitJob` calls are
 * batched by `sdk/submit-batcher.ts`.
 *
 * @example
 * const longrun = createClient({ url: 'http://localhost:4000/graphql', token: process.env.LONGRUN_TOKEN });
 * const { job } = await longrun.submitJob({ type: 'demo.sleep', payload: { ms: 2000, steps: 4 } });
 * for await (const u of longrun.watchJob(job!.id)) console.log(u.state, u.progress, u.message);
 * await longrun.close();
 */
import {
  CancelJobDocument,
  CancelJobsDocument,
  RescheduleJobDocument,
  DeadLettersDocument,
  JobDocument,
  JobEventsDocument,
  JobsDocument,
  JobTypesDocument,
  PurgeJobsDocument,
  PauseJobTypeDocument,
  QueueStatsDocument,
  ResumeJobTypeDocument,
  SetJobTypeRateLimitDocument,
  RetryJobDocument,
  RetryJobsDocument,
  SubmitJobDocument,
  SubmitJobsDocument,
  WebhookSigningDocument,
  SchedulesDocument,
  UpsertScheduleDocument,
  DeleteScheduleDocument,
  PauseScheduleDocument,
  ResumeScheduleDocument,
  RunScheduleDocument,
  type CancelJobMutation,
  type CancelJobsInput,
  type CancelJobsMutation,
  type RescheduleJobMutation,
  type DeadLettersQuery,
  type DeadLettersQueryVariables,
  type JobEventsQuery,
  type JobEventsQueryVariables,
  type JobQuery,
  type JobsQuery,
  type JobsQueryVariables,
  type JobTypesQuery,
  type JobUpdatesFilter,
  type QueueStatsQuery,
  type PurgeJobsInput,
  type PurgeJobsMutation,
  type PauseJobTypeMutation,
  type ResumeJobTypeMutation,
  type RateLimitInput,
  type SetJobTypeRateLimitMutation,
  type RetryJobMutation,
  type RetryJobsInput,
  type RetryJobsMutation,
  type SubmitJobInput,
  type SubmitJobMutation,
  type SubmitJobsMutation,
  type TypedDocumentString,
  type WebhookSigningQuery,
  type ScheduleInput,
  type SchedulesQuery,
  type UpsertScheduleMutation,
  type DeleteScheduleMutation,
  type PauseScheduleMutation,
  type ResumeScheduleMutation,
  type RunScheduleMutation,
} from './generated/graphql.js';
import { nodePost, type Post } from './http.js';
import { httpRequests } from './requests.js';
import { submitBatcher } from './submit-batcher.js';
import type { JobUpdatesOptions } from './job-updates.js';
import { subscriptions, type JobUpdate, type WatchOptions } from './subscriptions.js';

export interface ClientOptions {
  /** HTTP endpoint, e.g. `http://localhost:4000/graphql`. */
  url: string;
  /** WebSocket endpoint. @default `url` with http(s) replaced by ws(s) */
  wsUrl?: string;
  /** Bearer token (blanks around it left out): `Authorization: Bearer …` and graphql-ws `connectionParams.authorization`. */
  token?: string | undefined;
  /** How requests are sent. Default: `node:http(s)` with keep-alive (`sdk/http.ts`), a quarter of `fetch`'s CPU. */
  fetch?: typeof fetch;
  /**
   * How many times `watchJob` and `jobUpdates` reconnect in a row after losing the connection; and how many
   * gaps in a row, past the first, `jobUpdates` with `onGap` takes when the subscription from the present is
   * refused too (then it throws REPLAY_TOO_LARGE). @default 20
   */
  reconnectAttempts?: number;
  /**
   * First reconnect delay (and wait before a gap that follows a gap); it doubles up to 5 s. Each wait is a
   * random one between half and the whole of that (jitter: the clients of a restarted server do not all come
   * back at the same instant). @default 250
   */
  reconnectDelayMs?: number;
  /**
   * The WebSocket is pinged after this long without an answer from the server, and taken as lost when the
   * ping is not answered within as long again: a connection that died silently (no close reaches the
   * client: a NAT or firewall dropped it, the network went away) is reconnected as after any other loss,
   * instead of waiting for ever. @default 10000
   */
  keepAliveMs?: number;
  /**
   * How long the WebSocket's opening handshake, and then the server's acknowledgement, may each take: a
   * server that takes the connection and never answers fails a watch with `NETWORK` (its first connection)
   * or gets it reconnected (a later one), instead of holding it for ever. @default 10000
   */
  connectTimeoutMs?: number;
  /**
   * A request over HTTP with no answer after this long fails with code `TIMEOUT` (a server that accepts
   * connections and never answers would otherwise hold the call for ever). The server may still have done
   * it: submit again with the same `idempotencyKey` to be sure of one job. 0: no limit. @default 30000
   */
  requestTimeoutMs?: number;
  /**
   * Concurrent `submitJob` calls travel together as one `submitJobs` request; each call still gets its own
   * answer, errors included (`sdk/submit-batcher.ts`). `false` sends one request per call. @default true
   */
  batchSubmits?: boolean;
}

/** Another owner's schedule (an admin key's calls only; default: the caller's own). */
export interface ScheduleOwner {
  owner?: string;
}

/** A page of a job's history (`jobEvents`). */
export type JobEventsPage = NonNullable<JobEventsQuery['job']>['events'];

export interface LongrunClient {
  /** Concurrent calls travel as one `submitJobs` request; each still gets its own answer (`batchSubmits`). */
  submitJob(input: SubmitJobInput): Promise<SubmitJobMutation['submitJob']>;
  submitJobs(inputs: SubmitJobInput[]): Promise<SubmitJobsMutation['submitJobs']>;
  /** The job, with the first 500 rows of its history (`events`); null when there is no such job. */
  job(id: string): Promise<JobQuery['job']>;
  /**
   * A page of the job's history, in seq order: the rows after `after` (a seq; 0 by default), the first
   * `first` of them (at most 500, and 500 by default) or the newest `last`. A page shorter than asked for is
   * the last; ask for the next with `after` = the last row's seq. Null when there is no such job.
   */
  jobEvents(id: string, page?: Omit<JobEventsQueryVariables, 'id'>): Promise<JobEventsPage | null>;
  jobs(args?: JobsQueryVariables): Promise<JobsQuery['jobs']>;
  /** FAILED jobs whose dead-letter copy is recorded, most recently dead-lettered first (`retryJob` replays one). */
  deadLetters(args?: DeadLettersQueryVariables): Promise<DeadLettersQuery['deadLetters']>;
  cancelJob(id: string): Promise<CancelJobMutation['cancelJob']>;
  /**
   * Cancels jobs by `ids`, or up to `limit` (1,000) not finished that match a filter per call: call again while
   * `hasMore`, passing the answered `submittedBefore` so that jobs submitted since are left alone.
   */
  cancelJobs(input: CancelJobsInput): Promise<CancelJobsMutation['cancelJobs']>;
  /**
   * Moves a waiting job: a QUEUED job runs at `runAt` (an ISO date-time), a RETRYING job's next attempt is due
   * then; without `runAt` (or one not in the future), now. Another state: `userErrors` INVALID_STATE.
   */
  rescheduleJob(id: string, options?: { runAt?: string | null }): Promise<RescheduleJobMutation['rescheduleJob']>;
  /**
   * Replays a FAILED job as a new attempt series; `timeoutMs` gives that series another per-attempt timeout
   * (100..its type's current one), else it keeps its own.
   */
  retryJob(id: string, options?: { timeoutMs?: number }): Promise<RetryJobMutation['retryJob']>;
  /**
   * Replays FAILED jobs by `ids`, or up to `limit` (1,000) that match a filter per call: call again while
   * `hasMore`, passing the answered `failedBefore` so that a job that failed again since is not replayed twice.
   */
  retryJobs(input: RetryJobsInput): Promise<RetryJobsMutation['retryJobs']>;
  /** Admins only: deletes finished jobs (at most `limit` per call; call again while `hasMore`). */
  purgeJobs(input: PurgeJobsInput): Promise<PurgeJobsMutation['purgeJobs']>;
  /** Admins only: workers start no job of the type until `resumeJobType` (submits are still accepted). */
  pauseJobType(type: string): Promise<PauseJobTypeMutation['pauseJobType']>;
  /**
   * Admins only: workers pull the paused type's jobs again. A type the server no longer has is resumed too
   * while it is paused (its pause left on when it was removed), answering `jobType: null`.
   */
  resumeJobType(type: string): Promise<ResumeJobTypeMutation['resumeJobType']>;
  /**
   * Admins only: overrides a rate-limited type's limit (burst default max) for every worker from its next pull
   * on; `null` clears the override, back to the type's definition's limit.
   */
  setJobTypeRateLimit(type: string, rateLimit: RateLimitInput | null): Promise<SetJobTypeRateLimitMutation['setJobTypeRateLimit']>;
  queueStats(): Promise<QueueStatsQuery['queueStats']>;
  jobTypes(): Promise<JobTypesQuery['jobTypes']>;
  /**
   * The secrets that sign an owner's webhooks (the caller's own by default; another owner's needs an admin
   * key): with WEBHOOK_SECRET_SCOPE=owner, `secret` (and `previousSecret` during a rotation) for `verifyWebhook`.
   */
  webhookSigning(owner?: string): Promise<WebhookSigningQuery['webhookSigning']>;
  /** Your schedules (recurring jobs), by name; an admin may name another `owner`. */
  schedules(owner?: string): Promise<SchedulesQuery['schedules']>;
  /** Creates a schedule, or replaces yours of the same name (`created` says which); its next run counts from now. */
  upsertSchedule(input: ScheduleInput): Promise<UpsertScheduleMutation['upsertSchedule']>;
  /** Deletes your schedule (the jobs it made stay); `UNKNOWN_SCHEDULE` in `userErrors` if you have none of that name. */
  deleteSchedule(name: string, options?: ScheduleOwner): Promise<DeleteScheduleMutation['deleteSchedule']>;
  /** Your schedule makes no job until `resumeSchedule`. */
  pauseSchedule(name: string, options?: ScheduleOwner): Promise<PauseScheduleMutation['pauseSchedule']>;
  /** Your paused schedule runs again, next at the first time its cron names after now. */
  resumeSchedule(name: string, options?: ScheduleOwner): Promise<ResumeScheduleMutation['resumeSchedule']>;
  /** Your schedule submits its job now (paused or not); its next run stays as it is. */
  runSchedule(name: string, options?: ScheduleOwner): Promise<RunScheduleMutation['runSchedule']>;
  /**
   * The job's updates until it finishes (the iterator then ends). On network loss it reconnects and resumes
   * with `after: <last seq seen>`, so nothing is repeated or skipped. Throws a `LongrunError` (e.g. NOT_FOUND).
   */
  watchJob(id: string, options?: WatchOptions): AsyncIterableIterator<JobUpdate>;
  /**
   * Updates of many jobs (`jobUpdates`); never ends by itself: break out of the loop or abort. On network loss
   * it reconnects as `watchJob` does and resumes with `lastSeenAt`: the changes recorded while it was away come
   * first (state changes, attempt errors, recorded progress milestones; not every live progress report), and
   * no update is yielded twice. `options.since` replays from that instant at the start; without it, the first
   * subscription is from the instant `jobUpdates()` was called (not the first read), by the server's clock
   * (never live only). A replay refused because too much changed (a resume, your `since`, or the server's reread mid-stream) throws a `LongrunError`
   * REPLAY_TOO_LARGE, unless `options.onGap` is given: then it goes on from the present and calls `onGap`
   * first, for the application to re-read the current state.
   */
  jobUpdates(filter?: JobUpdatesFilter, options?: JobUpdatesOptions): AsyncIterableIterator<JobUpdate>;
  /** Runs any generated document over HTTP. */
  request<R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R>;
  /**
   * Closes the WebSocket and the HTTP connections; open `watchJob`/`jobUpdates` iterators end with a LongrunError
   * `CLOSED`, and so do the batched `submitJob` calls not sent yet (they submit nothing). The client stays
   * usable: a call or watch after it opens new connections, as a new client's first would.
   */
  close(): Promise<void>;
}

/**
 * What is wrong with `url` as the client's HTTP endpoint (`kind` http) or WebSocket one (ws), or null: it must
 * be a URL with a scheme its transport takes and no #fragment (the WebSocket library refuses one).
 */
export function endpointProblem(url: string, kind: 'http' | 'ws'): string | null {
  const schemes = kind === 'http' ? ['http:', 'https:'] : ['ws:', 'wss:', 'http:', 'https:'];
  const u = URL.canParse(url) ? new URL(url) : null;
  if (!u || !schemes.includes(u.protocol)) {
    return `${JSON.stringify(url)} is not ${kind === 'http' ? 'an' : 'a'} ${kind}:// or ${kind}s:// URL (such as ${kind}://localhost:4000/graphql)`;
  }
  return u.hash ? `${JSON.stringify(url)} has a #fragment` : null;
}

/**
 * Creates a client. Nothing connects until the first call; the WebSocket opens with the first watch. A `url`
 * or `wsUrl` that cannot be used (`localhost:4000/graphql`, without its scheme) throws a TypeError here: the
 * WebSocket library would throw it inside graphql-ws at the first watch, where nothing can catch it.
 */
export function createClient(o: ClientOptions): LongrunClient {
  const wsUrl = o.wsUrl ?? o.url.replace(/^http/, 'ws');
  for (const [option, url, kind] of [['url', o.url, 'http'], ['wsUrl', wsUrl, 'ws']] as const) {
    const problem = endpointProblem(url, kind);
    if (problem) throw new TypeError(`createClient: ${option}: ${problem}`);
  }
  const node = o.fetch ? null : nodePost();
  const doFetch: Post = o.fetch ?? node!.post;
  const token = o.token?.trim(); // a key read from a file ends in a line break, which no header may carry
  const authorization = token ? `Bearer ${token}` : undefined;
  const live = subscriptions({
    wsUrl,
    authorization,
    reconnectAttempts: o.reconnectAttempts ?? 20,
    reconnectDelayMs: o.reconnectDelayMs ?? 250,
    keepAliveMs: o.keepAliveMs ?? 10_000,
    connectTimeoutMs: o.connectTimeoutMs ?? 10_000,
  });
  const { post, close: closeRequests } = httpRequests({ url: o.url, post: doFetch, authorization, timeoutMs: o.requestTimeoutMs ?? 30_000 });

  const request = <R, V>(document: TypedDocumentString<R, V>, variables?: V): Promise<R> =>
    post(document, JSON.stringify(variables ?? {}));

  /** The two submit mutations, for inputs serialised already (as the batcher holds them). */
  const batched = {
    one: async (inputJson: string) => (await post(SubmitJobDocument, `{"input":${inputJson}}`)).submitJob,
    many: async (inputsJson: string[]) => (await post(SubmitJobsDocument, `{"inputs":[${inputsJson.join(',')}]}`)).submitJobs,
  };
  const submitOne = (input: SubmitJobInput) => batched.one(JSON.stringify(input));
  const submitJobs = (inputs: SubmitJobInput[]) => batched.many(inputs.map((i) => JSON.stringify(i)));
  const batcher = o.batchSubmits === false ? null : submitBatcher(batched);

  return {
    request,
    submitJob: batcher?.submit ?? submitOne,
    submitJobs,
    job: async (id) => (await request(JobDocument, { id })).job,
    jobEvents: async (id, page = {}) => (await request(JobEventsDocument, { ...page, id })).job?.events ?? null,
    jobs: async (args = {}) => (await request(JobsDocument, args)).jobs,
    deadLetters: async (args = {}) => (await request(DeadLettersDocument, args)).deadLetters,
    cancelJob: async (id) => (await request(CancelJobDocument, { id })).cancelJob,
    cancelJobs: async (input) => (await request(CancelJobsDocument, { input })).cancelJobs,
    rescheduleJob: async (id, options = {}) => (await request(RescheduleJobDocument, { id, runAt: options.runAt ?? null })).rescheduleJob,
    retryJob: async (id, options = {}) => (await request(RetryJobDocument, { id, timeoutMs: options.timeoutMs ?? null })).retryJob,
    retryJobs: async (input) => (await request(RetryJobsDocument, { input })).retryJobs,
    purgeJobs: async (input) => (await request(PurgeJobsDocument, { input })).purgeJobs,
    pauseJobType: async (type) => (await request(PauseJobTypeDocument, { type })).pauseJobType,
    resumeJobType: async (type) => (await request(ResumeJobTypeDocument, { type })).resumeJobType,
    setJobTypeRateLimit: async (type, rateLimit) => (await request(SetJobTypeRateLimitDocument, { type, rateLimit })).setJobTypeRateLimit,
    queueStats: async () => (await request(QueueStatsDocument)).queueStats,
    jobTypes: async () => (await request(JobTypesDocument)).jobTypes,
    webhookSigning: async (owner) => (await request(WebhookSigningDocument, { owner: owner ?? null })).webhookSigning,
    schedules: async (owner) => (await request(SchedulesDocument, { owner: owner ?? null })).schedules,
    upsertSchedule: async (input) => (await request(UpsertScheduleDocument, { input })).upsertSchedule,
    deleteSchedule: async (name, options = {}) => (await request(DeleteScheduleDocument, { name, owner: options.owner ?? null })).deleteSchedule,
    pauseSchedule: async (name, options = {}) => (await request(PauseScheduleDocument, { name, owner: options.owner ?? null })).pauseSchedule,
    resumeSchedule: async (name, options = {}) => (await request(ResumeScheduleDocument, { name, owner: options.owner ?? null })).resumeSchedule,
    runSchedule: async (name, options = {}) => (await request(RunScheduleDocument, { name, owner: options.owner ?? null })).runSchedule,
    watchJob: live.watchJob,
    jobUpdates: live.jobUpdates,
    async close() {
      closeRequests();
      batcher?.close();
      node?.close();
      await live.close();
    },
  };
}
