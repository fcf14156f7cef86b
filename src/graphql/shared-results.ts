/**
 * Subscription results shared by subscribers: graphql-js would run the operation's selection set and
 * serialise the result once per event and subscriber. Here the serialised result is cached per event
 * object and per operation (query text, operation name, variables), so the 100 subscribers of one job that
 * send the same operation share one execution and one `JSON.stringify`.
 *
 * Sound because the update hub hands every listener the same parsed update object, and the fields of
 * `JobUpdate` are pure functions of that object (no resolver there reads the context or the viewer).
 * Events that are not objects are executed per subscriber.
 *
 * The variables that count are those the selection uses: a variable used only in the subscription field's
 * own arguments (`since`, `lastSeenAt`, `after`, `filter`, `id`) chooses which events come and from when,
 * never what an event serialises to, since every subscription field resolves to the event itself
 * (resolvers.ts). So SDK subscribers, each of which starts from its own `since`, still share.
 */
import { execute, getOperationAST, Kind, visit, type ASTNode, type ExecutionArgs, type ExecutionResult } from 'graphql';

/** Serialised results by event object, then by operation key. Entries go when the event is collected. */
const results = new WeakMap<object, Map<string, string | Promise<string>>>();

/** The JSON of one `next` payload of an operation, for an event. */
export type PayloadOf = (event: unknown) => string | Promise<string>;

/** What decides a result besides the event: the operation's text, its name and the variables its selection uses. */
function operationKey(args: ExecutionArgs): string | null {
  const text = args.document.loc?.source.body;
  if (text === undefined) return null; // no source text to compare: never shared
  const used = variablesOfSelection(args);
  const variables = Object.entries(args.variableValues ?? {}).filter(([name]) => used === null || used.has(name));
  return `${args.operationName ?? ''}\0${JSON.stringify(variables)}\0${text}`;
}

/**
 * The variables the operation uses anywhere but in its root fields' arguments (their directives, selections
 * and fragments included); null when the operation cannot be found (then every variable counts).
 */
function variablesOfSelection(args: ExecutionArgs): Set<string> | null {
  const op = getOperationAST(args.document, args.operationName);
  if (!op) return null;
  const used = new Set<string>();
  const collect = (node: ASTNode) => visit(node, { Variable: (v) => void used.add(v.name.value) });
  for (const sel of op.selectionSet.selections) {
    if (sel.kind !== Kind.FIELD) collect(sel);
    else {
      for (const d of sel.directives ?? []) collect(d);
      if (sel.selectionSet) collect(sel.selectionSet);
    }
  }
  for (const def of args.document.definitions) if (def.kind === Kind.FRAGMENT_DEFINITION) collect(def);
  return used;
}

/**
 * The payload function of one subscription: executes its selection set with the event as root value (as
 * graphql-js `subscribe` does), formats the result with `formatResult`, serialises, and shares the JSON with
 * every subscription whose operation key is the same.
 */
export function sharedPayloads(args: ExecutionArgs, formatResult: (r: ExecutionResult) => ExecutionResult): PayloadOf {
  const key = operationKey(args);
  const serialise = (r: ExecutionResult) => JSON.stringify(formatResult(r));
  const run = (event: unknown): string | Promise<string> => {
    const r = execute({ ...args, rootValue: event });
    return r instanceof Promise ? r.then(serialise) : serialise(r);
  };
  return (event) => {
    if (key === null || typeof event !== 'object' || event === null) return run(event);
    let byKey = results.get(event);
    if (!byKey) results.set(event, (byKey = new Map()));
    let json = byKey.get(key);
    if (json === undefined) byKey.set(key, (json = run(event)));
    return json;
  };
}
