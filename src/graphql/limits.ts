/**
 * Limits on the shape of a GraphQL document, as graphql-js validation rules, applied on both transports:
 * Apollo's `validationRules` (HTTP) and the graphql-ws `onSubscribe` hook (WebSocket).
 *
 * - depth: selection sets nested deeper than `maxDepth` (root fields are depth 1) → QUERY_TOO_DEEP.
 *   Introspection (`__schema`, `__type`) is not counted, so GraphiQL can load the schema; its cost is.
 * - cost: every field costs 1 × the page sizes of the lists around it; a field whose definition takes
 *   `first` multiplies what is below it by that number (by the field's largest page, MAX_PAGE_SIZE or
 *   `Job.events`' MAX_EVENTS_PAGE_SIZE, when it is a variable or absent; `Job.events(last:)` by its
 *   `last` as written); a paged field below an unpaged list that can be long (`submitJobs`', `retryJobs`' and `cancelJobs`' jobs) is
 *   multiplied by that list's longest too → QUERY_TOO_COSTLY.
 * - aliases: aliased fields, counted where fragments are spread → TOO_MANY_ALIASES.
 * - tokens: `parseOptions().maxTokens` stops the parser itself on huge documents (GRAPHQL_PARSE_FAILED).
 *
 * Fragments are expanded where they are spread, with a work budget (WALK_BUDGET selections: fields, spreads
 * and inline fragments alike), so neither fragment cycles (reported by graphql-js' own rule) nor "fragment
 * bombs" make the check itself expensive, not even one whose fragments hold spreads alone: graphql-js runs
 * every rule after it has reported an unknown fragment or a cycle. A document that expands past the budget is
 * QUERY_TOO_COSTLY.
 */
import {
  GraphQLError,
  Kind,
  NoSchemaIntrospectionCustomRule,
  type ASTNode,
  type ASTVisitor,
  getNamedType,
  isInterfaceType,
  isObjectType,
  type FieldNode,
  type GraphQLField,
  type GraphQLNamedType,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationContext,
  type ValidationRule,
} from 'graphql';
import { ErrorCode, PublicError } from '../errors.js';
import { MAX_EVENTS_PAGE_SIZE, MAX_PAGE_SIZE } from '../jobs/queries.js';
import { MAX_RETRY_BATCH } from '../jobs/replay.js';
import { MAX_CANCEL_BATCH } from '../jobs/commands.js';
import { MAX_BATCH_SIZE } from '../jobs/submit.js';
import { MAX_SCHEDULES_PER_OWNER } from '../jobs/schedules.js';

export interface QueryLimits {
  /** @default 10 */
  maxDepth: number;
  /** @default 5000 */
  maxCost: number;
  /** @default 30 */
  maxAliases: number;
  /** @default 10000 */
  maxTokens: number;
  /** Whether `__schema` / `__type` may be queried. */
  introspection: boolean;
}

interface Visit {
  field: FieldNode;
  depth: number;
  /** Product of the page sizes of the enclosing connections. */
  multiplier: number;
}

/** The most selections one walk of an operation visits, fragments expanded. */
const WALK_BUDGET = 100_000;

const isIntrospection = (f: FieldNode) => f.name.value === '__schema' || f.name.value === '__type';

/** Paged lists whose largest page is not MAX_PAGE_SIZE, by `Type.field`. */
const LARGEST_PAGE: Readonly<Record<string, number>> = { 'Job.events': MAX_EVENTS_PAGE_SIZE };

/**
 * Lists without pages that can be long, by `Type.field`, and their longest: a paged field below one is
 * asked for once per item (`submitJobs { jobs { events } }`: 1,000 histories of 500 rows in one answer).
 * The fields of their items are not multiplied (a submit answering its 1,000 jobs costs what it did).
 */
const UNPAGED_LISTS: Readonly<Record<string, number>> = {
  'SubmitJobsPayload.jobs': MAX_BATCH_SIZE,
  'RetryJobsPayload.jobs': MAX_RETRY_BATCH,
  'CancelJobsPayload.jobs': MAX_CANCEL_BATCH,
  'Query.schedules': MAX_SCHEDULES_PER_OWNER,
};

/**
 * How many items a field can return per item of its parent: for a field whose definition takes `first`
 * (a connection, a history page), the literal value, or its largest page when it is a variable or absent;
 * otherwise 1. `Job.events(last: n)` with no `first` counts n (elsewhere a `last` page counts the largest).
 */
function pageSizeOf(f: FieldNode, parent: GraphQLNamedType, def: GraphQLField<unknown, unknown>): number {
  if (!isPaged(def)) return 1;
  const key = `${parent.name}.${def.name}`;
  const arg = (name: string) => f.arguments?.find((a) => a.name.value === name);
  const literal = (name: string) => {
    const value = arg(name)?.value;
    return value?.kind === Kind.INT ? Math.max(0, Number(value.value)) : null;
  };
  const last = key === 'Job.events' && !arg('first') ? literal('last') : null;
  return literal('first') ?? last ?? LARGEST_PAGE[key] ?? MAX_PAGE_SIZE;
}

const isPaged = (def: GraphQLField<unknown, unknown>) => def.args.some((a) => a.name === 'first');

/**
 * Visits every field of an operation as executed (fragments expanded), depth-first. Stops when `visit`
 * returns false, or after WALK_BUDGET selections: then it answers false (the walk did not finish).
 * Fragments already on the path are skipped (cycles are reported by NoFragmentCyclesRule).
 */
function walk(ctx: ValidationContext, op: OperationDefinitionNode, visit: (v: Visit) => boolean): boolean {
  const schema = ctx.getSchema();
  const onPath = new Set<string>();
  let stopped = false;
  let budget = WALK_BUDGET;
  const typeNamed = (name: string | undefined, fallback: GraphQLNamedType | undefined) =>
    name === undefined ? fallback : schema.getType(name) ?? undefined;
  // `unpaged`: the longest of the unpaged lists (UNPAGED_LISTS) above, not yet counted: it multiplies the
  // next paged field down.
  const go = (s: SelectionSetNode, parent: GraphQLNamedType | undefined, depth: number, multiplier: number, countDepth: boolean, unpaged = 1): void => {
    for (const sel of s.selections) {
      if (stopped) return;
      if (--budget < 0) {
        stopped = true;
        return;
      }
      if (sel.kind === Kind.FIELD) {
        const introspection = !countDepth || isIntrospection(sel);
        const d = introspection ? depth : depth + 1;
        if (!visit({ field: sel, depth: d, multiplier })) {
          stopped = true;
          return;
        }
        if (!sel.selectionSet) continue;
        const def = parent && (isObjectType(parent) || isInterfaceType(parent)) ? parent.getFields()[sel.name.value] : undefined;
        const type = def && getNamedType(def.type);
        if (!parent || !def) go(sel.selectionSet, type, d, multiplier, !introspection, unpaged);
        else if (isPaged(def)) go(sel.selectionSet, type, d, multiplier * unpaged * pageSizeOf(sel, parent, def), !introspection);
        else go(sel.selectionSet, type, d, multiplier, !introspection, unpaged * (UNPAGED_LISTS[`${parent.name}.${def.name}`] ?? 1));
      } else if (sel.kind === Kind.INLINE_FRAGMENT) {
        go(sel.selectionSet, typeNamed(sel.typeCondition?.name.value, parent), depth, multiplier, countDepth, unpaged);
      } else {
        const name = sel.name.value;
        const fragment = ctx.getFragment(name);
        if (!fragment || onPath.has(name)) continue;
        onPath.add(name);
        go(fragment.selectionSet, typeNamed(fragment.typeCondition.name.value, parent), depth, multiplier, countDepth, unpaged);
        onPath.delete(name);
      }
    }
  };
  go(op.selectionSet, schema.getRootType(op.operation) ?? undefined, 0, 1, true);
  return budget >= 0;
}

function limitError(code: ErrorCode, message: string, node: ASTNode, limit: number): GraphQLError {
  return new GraphQLError(message, { nodes: [node], originalError: new PublicError(code, message, { extensions: { limit } }) });
}

/** One rule per limit; each checks every operation of the document. */
function operationRule(check: (ctx: ValidationContext, op: OperationDefinitionNode) => void): ValidationRule {
  return (ctx: ValidationContext): ASTVisitor => ({
    OperationDefinition(op) {
      check(ctx, op);
      return false;
    },
  });
}

export const maxDepthRule = (max: number): ValidationRule =>
  operationRule((ctx, op) => {
    walk(ctx, op, ({ field, depth }) => {
      if (depth > max) {
        ctx.reportError(limitError(ErrorCode.QUERY_TOO_DEEP, `the query is nested deeper than ${max} levels`, field, max));
        return false;
      }
      return true;
    });
  });

export const maxCostRule = (max: number): ValidationRule =>
  operationRule((ctx, op) => {
    let cost = 0;
    const finished = walk(ctx, op, ({ field, multiplier }) => {
      cost += Math.max(1, multiplier);
      if (cost <= max) return true;
      ctx.reportError(limitError(ErrorCode.QUERY_TOO_COSTLY, `the query's estimated cost is above ${max}; ask for fewer items or fields`, field, max));
      return false;
    });
    const expands = `the query expands (fragments spread where they are used) to more than ${WALK_BUDGET} selections`;
    if (!finished) ctx.reportError(limitError(ErrorCode.QUERY_TOO_COSTLY, expands, op, max));
  });

export const maxAliasesRule = (max: number): ValidationRule =>
  operationRule((ctx, op) => {
    let aliases = 0;
    walk(ctx, op, ({ field }) => {
      if (field.alias && ++aliases > max) {
        ctx.reportError(limitError(ErrorCode.TOO_MANY_ALIASES, `the query uses more than ${max} aliases`, field, max));
        return false;
      }
      return true;
    });
  });

/** The extra validation rules for both transports. */
export function limitRules(l: QueryLimits): ValidationRule[] {
  return [
    maxDepthRule(l.maxDepth),
    maxCostRule(l.maxCost),
    maxAliasesRule(l.maxAliases),
    ...(l.introspection ? [] : [NoSchemaIntrospectionCustomRule]),
  ];
}

/** graphql-js parse options for both transports. */
export const parseOptions = (l: QueryLimits) => ({ maxTokens: l.maxTokens });
