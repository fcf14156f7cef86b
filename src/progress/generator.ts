/** Helpers for the update streams' async generators. */

/**
 * Makes `return()` take effect at once, also before the first `next()` or while the generator waits for an
 * update: `onReturn` runs first (stop listening, wake the waiter), then the generator finishes.
 */
export function returnsAtOnce<T>(gen: AsyncGenerator<T>, onReturn: () => void): AsyncGenerator<T> {
  const finish = gen.return.bind(gen);
  gen.return = (value) => {
    onReturn();
    return finish(value);
  };
  return gen;
}

/**
 * An update stream that can also hand over an event synchronously, without the async generator's promise
 * chain: while its consumer waits for the next event and nothing is queued ahead, `deliver(event)` is called
 * at once from the NATS callback; it answers false (not taken) when it cannot send now, and the event then
 * goes the usual way. Order is kept: only an idle stream with nothing queued delivers directly.
 */
export interface DirectDelivery<T> {
  deliverTo(deliver: (event: T) => boolean): void;
}

export function offersDirectDelivery<T>(stream: object): stream is DirectDelivery<T> {
  return typeof (stream as Partial<DirectDelivery<T>>).deliverTo === 'function';
}
