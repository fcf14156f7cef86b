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
