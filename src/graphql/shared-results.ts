/**
 * Subscription execution shared by subscribers: graphql-js runs the operation's selection set once per
 * event and subscriber. Here the result is cached per event object and per operation (query text, operation
 * name, variables), so the 100 subscribers of one job that send the same operation share one execution.
 *
 * Sound because the update hub hands every listener the same parsed update object, and the fields of
 * `JobUpdate` are pure functions of that object (no resolver there reads the context or the viewer).
 * A subscription whose events are not objects is executed per subscriber, as graphql-js does.
 */
import { createSourceEventStream, execute, type ExecutionArgs, type ExecutionResult } from 'graphql';

/** Results by event object, then by operation key. Entries go when the event object is collected. */
const results = new WeakMap<object, Map<string, Result>>();

type Result = ExecutionResult | Promise<ExecutionResult>;

/** What decides a result besides the event: the operation's text, its name and its variables. */
function operationKey(args: ExecutionArgs): string {
  const text = args.document.loc?.source.body;
  if (text === undefined) return ''; // no source text: nothing to compare, so never shared
  return `${args.operationName ?? ''}\0${JSON.stringify(args.variableValues ?? null)}\0${text}`;
}

function resultFor(event: unknown, key: string, args: ExecutionArgs): Result {
  if (key === '' || typeof event !== 'object' || event === null) return execute({ ...args, rootValue: event });
  let byKey = results.get(event);
  if (!byKey) results.set(event, (byKey = new Map()));
  let r = byKey.get(key);
  if (!r) byKey.set(key, (r = execute({ ...args, rootValue: event })));
  return r;
}

/**
 * Drop-in for graphql-js `subscribe` (graphql-ws' `subscribe` option). `return()` goes straight to the
 * source stream, so ending a subscription that waits for its next event takes effect at once.
 */
export async function subscribeSharingResults(args: ExecutionArgs): Promise<AsyncGenerator<ExecutionResult> | ExecutionResult> {
  const stream = await createSourceEventStream(args);
  if (!(Symbol.asyncIterator in stream)) return stream;
  const source = stream[Symbol.asyncIterator]();
  const key = operationKey(args);
  const mapped: AsyncGenerator<ExecutionResult> = {
    async next() {
      const r = await source.next();
      if (r.done) return { done: true, value: undefined };
      const result = resultFor(r.value, key, args);
      return { done: false, value: result instanceof Promise ? await result : result };
    },
    async return() {
      await source.return?.();
      return { done: true, value: undefined };
    },
    async throw(e: unknown) {
      if (source.throw) await source.throw(e);
      throw e;
    },
    [Symbol.asyncIterator]() {
      return mapped;
    },
  };
  return mapped;
}
