/**
 * Submit rate per API key, checked before an operation runs (so a refused operation writes nothing), on
 * both transports. The cost of an operation is the number of jobs it submits: 1 per `submitJob` field,
 * the length of `inputs` per `submitJobs` field, none for a field `@skip` / `@include` leaves out, once for
 * fields GraphQL merges into one (the same response name: they run once). Each
 * key has a token bucket of `burst` jobs refilled at `perSecond`; an operation that does not fit answers
 * RATE_LIMITED with `extensions.retryAfter` (seconds; null when it submits more than `burst` jobs, which
 * never fit: then `extensions.limit` = burst) and
 * `extensions.remaining`, the whole jobs the bucket holds at that instant: an operation of at most that
 * many jobs would have passed, and passes next unless other operations of the key take tokens first (a
 * refused operation takes none, and the bucket only fills in between). The SDK's batcher sends that many.
 * A refused submit (user errors: found in the input, or in what the database holds, an idempotency key taken
 * by a job of another type) wrote nothing and is given its tokens back (`GraphQLContext.submits`; not a batch
 * rolled back because a concurrent submit took one of its keys meanwhile: `SubmitResult.refused`), so the
 * inputs of a refused batch the SDK sends again are not counted twice. An operation whose variables GraphQL
 * cannot coerce (`maxAttempts: 1.5`) is refused with BAD_USER_INPUT before anything runs, so it is not
 * charged at all (`jobsCharged`). The rate bounds the jobs a key writes; a refusal by the database costs one
 * indexed read, as a `job(id)` query does, which no rate bounds.
 */
import { HeaderMap, type ApolloServerPlugin } from '@apollo/server';
import { getVariableValues, GraphQLError, Kind, type DocumentNode, type GraphQLSchema, type OperationDefinitionNode, type ValueNode } from 'graphql';
// graphql-js' own CollectFields (exported by its module, not by the package's index): what execution runs.
import { collectFields } from 'graphql/execution/collectFields.js';
import { ErrorCode, isPublicError, PublicError } from '../errors.js';
import type { GraphQLContext } from './context.js';
import { MAX_BATCH_SIZE } from '../jobs/submit.js';

export interface SubmitRate {
  /** Jobs per second a key may submit, sustained; 0 = unlimited. */
  perSecond: number;
  /** Jobs a key may submit at once. */
  burst: number;
}

/**
 * The jobs a `submitJobs` field of `inputs` inputs is charged (and may be given back when refused): one per
 * input, none past MAX_BATCH_SIZE (refused by its size, OUT_OF_RANGE, writing nothing).
 */
export const chargedInputs = (inputs: number): number => (inputs <= MAX_BATCH_SIZE ? inputs : 0);

/**
 * How many jobs the operation submits: the root fields as GraphQL's CollectFields gathers them for execution
 * (fragments expanded, `@skip` / `@include` applied: a field left out runs no resolver; fields of one response
 * name merged: `a: submitJob(input: $i)` twice, or a fragment spread twice, runs once), each `submitJob` 1,
 * each `submitJobs` as `chargedInputs` says of its `inputs` (a literal list or a variable). `variables`: the
 * operation's coerced values (`getVariableValues`: defaults filled in, a single input made a list of one).
 * Validation has made sure the fields of one response name have the same name and arguments.
 */
function jobsSubmitted(schema: GraphQLSchema, doc: DocumentNode, op: OperationDefinitionNode, variables: Readonly<Record<string, unknown>>): number {
  const mutation = schema.getMutationType();
  if (!mutation) return 0;
  const fragments = Object.fromEntries(
    doc.definitions.flatMap((d) => (d.kind === Kind.FRAGMENT_DEFINITION ? [[d.name.value, d] as const] : [])),
  );
  /** How many inputs a list argument holds. */
  const lengthOf = (value: ValueNode | undefined): number => {
    if (value?.kind === Kind.LIST) return value.values.length;
    if (value?.kind !== Kind.VARIABLE) return 1;
    const v = variables[value.name.value];
    return Array.isArray(v) ? v.length : 1;
  };
  let n = 0;
  // Execution resolves a merged field once, with its first node's arguments.
  for (const [field] of collectFields(schema, fragments, variables, mutation, op.selectionSet).values()) {
    if (field?.name.value === 'submitJob') n += 1;
    if (field?.name.value === 'submitJobs') {
      n += chargedInputs(lengthOf(field.arguments?.find((a) => a.name.value === 'inputs')?.value));
    }
  }
  return n;
}

/**
 * The jobs an operation is charged before it runs (both transports): `jobsSubmitted`, or none when its
 * variables do not coerce, or a root `@skip` / `@include` is given null. GraphQL then refuses the whole
 * operation before any resolver runs, so nothing is written and no resolver could give the tokens back;
 * the SDK's batcher sends such a batch again without the input named, which would pay for the rest twice.
 */
export function jobsCharged(
  schema: GraphQLSchema,
  doc: DocumentNode,
  op: OperationDefinitionNode,
  variables: Readonly<Record<string, unknown>> | null | undefined,
): number {
  if (op.operation !== 'mutation') return 0;
  const values = getVariableValues(schema, op.variableDefinitions ?? [], variables ?? {}, { maxErrors: 1 });
  if (values.errors) return 0;
  try {
    return jobsSubmitted(schema, doc, op, values.coerced);
  } catch (e) {
    // `@skip(if: $s)` with `$s: Boolean = true` sent as null: graphql-js refuses the operation for it.
    if (e instanceof GraphQLError) return 0;
    throw e;
  }
}

export interface SubmitRateLimiter {
  /** Takes `jobs` tokens from the key's bucket and answers how many it took, or throws RATE_LIMITED (taking nothing). */
  take(keyId: string, jobs: number): number;
  /** Gives back tokens taken for jobs refused, which wrote nothing (see `SubmitResult.refused`). */
  refund(keyId: string, jobs: number): void;
}

/** @param now clock in milliseconds (for tests) */
export function createSubmitRateLimiter(rate: SubmitRate, now: () => number = Date.now): SubmitRateLimiter {
  const buckets = new Map<string, { tokens: number; at: number }>();
  let lastSweep = now();
  return {
    take(keyId, jobs) {
      if (rate.perSecond <= 0 || jobs <= 0) return 0;
      const t = now();
      // Forget buckets that have refilled completely (they equal a fresh one).
      if (t - lastSweep > 60_000) {
        lastSweep = t;
        for (const [k, b] of buckets) if (b.tokens + ((t - b.at) / 1000) * rate.perSecond >= rate.burst) buckets.delete(k);
      }
      const b = buckets.get(keyId) ?? { tokens: rate.burst, at: t };
      b.tokens = Math.min(rate.burst, b.tokens + ((t - b.at) / 1000) * rate.perSecond);
      b.at = t;
      buckets.set(keyId, b);
      if (jobs <= b.tokens) {
        b.tokens -= jobs;
        return jobs;
      }
      const remaining = Math.floor(b.tokens);
      if (jobs > rate.burst) {
        throw new PublicError(ErrorCode.RATE_LIMITED, `one operation may submit at most ${rate.burst} jobs with this key`, {
          extensions: { retryAfter: null, limit: rate.burst, remaining },
        });
      }
      const retryAfter = Math.max(1, Math.ceil((jobs - b.tokens) / rate.perSecond));
      throw new PublicError(ErrorCode.RATE_LIMITED, `too many jobs submitted with this key; retry in ${retryAfter} s`, {
        extensions: { retryAfter, remaining },
      });
    },
    refund(keyId, jobs) {
      const b = buckets.get(keyId);
      if (b && jobs > 0) b.tokens = Math.min(rate.burst, b.tokens + jobs);
    },
  };
}

/**
 * The check on the HTTP path (Apollo), once the operation is known and before it runs: RATE_LIMITED answers
 * HTTP 429 with a `Retry-After` header. (graphql-ws charges the same `GraphQLContext.submits` in its
 * `onSubscribe`, src/http/ws.ts.)
 */
export function submitRatePlugin(): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ schema, document, operation, request, contextValue }) {
          if (!operation || contextValue.keyId === null) return;
          try {
            contextValue.submits.take(jobsCharged(schema, document, operation, request.variables));
          } catch (e) {
            if (!isPublicError(e)) throw e;
            const retryAfter = e.extensions['retryAfter'];
            const headers = new HeaderMap(typeof retryAfter === 'number' ? [['retry-after', String(retryAfter)]] : []);
            throw new GraphQLError(e.message, { originalError: e, extensions: { http: { status: 429, headers } } });
          }
        },
      };
    },
  };
}
