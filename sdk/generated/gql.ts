/* eslint-disable */
import * as types from './graphql.js';



/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "fragment JobFields on Job {\n  id\n  type\n  state\n  payload\n  progress\n  progressMessage\n  attempts\n  maxAttempts\n  result\n  error\n  createdAt\n  startedAt\n  finishedAt\n  nextAttemptAt\n}\n\nfragment JobPage on JobConnection {\n  totalCount\n  pageInfo {\n    hasNextPage\n    hasPreviousPage\n    startCursor\n    endCursor\n  }\n  edges {\n    cursor\n    node {\n      ...JobFields\n    }\n  }\n}\n\nfragment JobUpdateFields on JobUpdate {\n  jobId\n  type\n  seq\n  state\n  progress\n  message\n  attempt\n  at\n  result\n  error\n}\n\nfragment UserErrorFields on UserError {\n  code\n  field\n  message\n}": typeof types.JobFieldsFragmentDoc,
    "mutation SubmitJob($input: SubmitJobInput!) {\n  submitJob(input: $input) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation SubmitJobs($inputs: [SubmitJobInput!]!) {\n  submitJobs(inputs: $inputs) {\n    jobs {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation CancelJob($id: ID!) {\n  cancelJob(id: $id) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation RetryJob($id: ID!) {\n  retryJob(id: $id) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation PurgeJobs($input: PurgeJobsInput!) {\n  purgeJobs(input: $input) {\n    purged\n    deadLetterCopiesRemoved\n    hasMore\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}": typeof types.SubmitJobDocument,
    "query Job($id: ID!) {\n  job(id: $id) {\n    ...JobFields\n    events {\n      seq\n      state\n      progress\n      message\n      attempt\n      at\n    }\n  }\n}\n\nquery Jobs($filter: JobFilter, $first: Int, $after: String, $last: Int, $before: String) {\n  jobs(\n    filter: $filter\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    ...JobPage\n  }\n}\n\nquery DeadLetters($first: Int, $after: String, $type: String) {\n  deadLetters(first: $first, after: $after, type: $type) {\n    ...JobPage\n  }\n}\n\nquery QueueStats {\n  queueStats {\n    type\n    queued\n    running\n    retrying\n    failed\n    deadLetters\n    throughputLastMinute\n    oldestQueuedAgeSeconds\n  }\n}\n\nquery JobTypes {\n  jobTypes {\n    name\n    description\n    defaultMaxAttempts\n    timeoutMs\n    payloadSchema\n  }\n}": typeof types.JobDocument,
    "subscription JobProgress($id: ID!, $after: Int) {\n  jobProgress(id: $id, after: $after) {\n    ...JobUpdateFields\n  }\n}\n\nsubscription JobUpdates($filter: JobUpdatesFilter, $since: DateTime, $lastSeenAt: DateTime) {\n  jobUpdates(filter: $filter, since: $since, lastSeenAt: $lastSeenAt) {\n    ...JobUpdateFields\n  }\n}": typeof types.JobProgressDocument,
};
const documents: Documents = {
    "fragment JobFields on Job {\n  id\n  type\n  state\n  payload\n  progress\n  progressMessage\n  attempts\n  maxAttempts\n  result\n  error\n  createdAt\n  startedAt\n  finishedAt\n  nextAttemptAt\n}\n\nfragment JobPage on JobConnection {\n  totalCount\n  pageInfo {\n    hasNextPage\n    hasPreviousPage\n    startCursor\n    endCursor\n  }\n  edges {\n    cursor\n    node {\n      ...JobFields\n    }\n  }\n}\n\nfragment JobUpdateFields on JobUpdate {\n  jobId\n  type\n  seq\n  state\n  progress\n  message\n  attempt\n  at\n  result\n  error\n}\n\nfragment UserErrorFields on UserError {\n  code\n  field\n  message\n}": types.JobFieldsFragmentDoc,
    "mutation SubmitJob($input: SubmitJobInput!) {\n  submitJob(input: $input) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation SubmitJobs($inputs: [SubmitJobInput!]!) {\n  submitJobs(inputs: $inputs) {\n    jobs {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation CancelJob($id: ID!) {\n  cancelJob(id: $id) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation RetryJob($id: ID!) {\n  retryJob(id: $id) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation PurgeJobs($input: PurgeJobsInput!) {\n  purgeJobs(input: $input) {\n    purged\n    deadLetterCopiesRemoved\n    hasMore\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}": types.SubmitJobDocument,
    "query Job($id: ID!) {\n  job(id: $id) {\n    ...JobFields\n    events {\n      seq\n      state\n      progress\n      message\n      attempt\n      at\n    }\n  }\n}\n\nquery Jobs($filter: JobFilter, $first: Int, $after: String, $last: Int, $before: String) {\n  jobs(\n    filter: $filter\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    ...JobPage\n  }\n}\n\nquery DeadLetters($first: Int, $after: String, $type: String) {\n  deadLetters(first: $first, after: $after, type: $type) {\n    ...JobPage\n  }\n}\n\nquery QueueStats {\n  queueStats {\n    type\n    queued\n    running\n    retrying\n    failed\n    deadLetters\n    throughputLastMinute\n    oldestQueuedAgeSeconds\n  }\n}\n\nquery JobTypes {\n  jobTypes {\n    name\n    description\n    defaultMaxAttempts\n    timeoutMs\n    payloadSchema\n  }\n}": types.JobDocument,
    "subscription JobProgress($id: ID!, $after: Int) {\n  jobProgress(id: $id, after: $after) {\n    ...JobUpdateFields\n  }\n}\n\nsubscription JobUpdates($filter: JobUpdatesFilter, $since: DateTime, $lastSeenAt: DateTime) {\n  jobUpdates(filter: $filter, since: $since, lastSeenAt: $lastSeenAt) {\n    ...JobUpdateFields\n  }\n}": types.JobProgressDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "fragment JobFields on Job {\n  id\n  type\n  state\n  payload\n  progress\n  progressMessage\n  attempts\n  maxAttempts\n  result\n  error\n  createdAt\n  startedAt\n  finishedAt\n  nextAttemptAt\n}\n\nfragment JobPage on JobConnection {\n  totalCount\n  pageInfo {\n    hasNextPage\n    hasPreviousPage\n    startCursor\n    endCursor\n  }\n  edges {\n    cursor\n    node {\n      ...JobFields\n    }\n  }\n}\n\nfragment JobUpdateFields on JobUpdate {\n  jobId\n  type\n  seq\n  state\n  progress\n  message\n  attempt\n  at\n  result\n  error\n}\n\nfragment UserErrorFields on UserError {\n  code\n  field\n  message\n}"): typeof import('./graphql.js').JobFieldsFragmentDoc;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation SubmitJob($input: SubmitJobInput!) {\n  submitJob(input: $input) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation SubmitJobs($inputs: [SubmitJobInput!]!) {\n  submitJobs(inputs: $inputs) {\n    jobs {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation CancelJob($id: ID!) {\n  cancelJob(id: $id) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation RetryJob($id: ID!) {\n  retryJob(id: $id) {\n    job {\n      ...JobFields\n    }\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}\n\nmutation PurgeJobs($input: PurgeJobsInput!) {\n  purgeJobs(input: $input) {\n    purged\n    deadLetterCopiesRemoved\n    hasMore\n    userErrors {\n      ...UserErrorFields\n    }\n  }\n}"): typeof import('./graphql.js').SubmitJobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "query Job($id: ID!) {\n  job(id: $id) {\n    ...JobFields\n    events {\n      seq\n      state\n      progress\n      message\n      attempt\n      at\n    }\n  }\n}\n\nquery Jobs($filter: JobFilter, $first: Int, $after: String, $last: Int, $before: String) {\n  jobs(\n    filter: $filter\n    first: $first\n    after: $after\n    last: $last\n    before: $before\n  ) {\n    ...JobPage\n  }\n}\n\nquery DeadLetters($first: Int, $after: String, $type: String) {\n  deadLetters(first: $first, after: $after, type: $type) {\n    ...JobPage\n  }\n}\n\nquery QueueStats {\n  queueStats {\n    type\n    queued\n    running\n    retrying\n    failed\n    deadLetters\n    throughputLastMinute\n    oldestQueuedAgeSeconds\n  }\n}\n\nquery JobTypes {\n  jobTypes {\n    name\n    description\n    defaultMaxAttempts\n    timeoutMs\n    payloadSchema\n  }\n}"): typeof import('./graphql.js').JobDocument;
/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "subscription JobProgress($id: ID!, $after: Int) {\n  jobProgress(id: $id, after: $after) {\n    ...JobUpdateFields\n  }\n}\n\nsubscription JobUpdates($filter: JobUpdatesFilter, $since: DateTime, $lastSeenAt: DateTime) {\n  jobUpdates(filter: $filter, since: $since, lastSeenAt: $lastSeenAt) {\n    ...JobUpdateFields\n  }\n}"): typeof import('./graphql.js').JobProgressDocument;


export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}
