/**
 * Ends what a revoked key still holds open: long-lived WebSocket connections register their key here, and
 * every `intervalMs` one query finds which of the registered keys no longer authenticate.
 */
import type { Logger } from '../log.js';
import type { Authenticator } from './authenticate.js';

export interface RevocationWatch {
  /** Calls `onRevoked` once, within about `intervalMs`, after the key is revoked; returns the unwatch function. */
  watch(keyId: string, onRevoked: () => void): () => void;
  stop(): void;
}

export function watchRevocations(auth: Authenticator, intervalMs: number, log: Logger): RevocationWatch {
  const watchers = new Map<string, Set<() => void>>();
  let checking = false;
  const timer = setInterval(() => {
    if (checking || watchers.size === 0) return;
    checking = true;
    auth
      .inactive([...watchers.keys()])
      .then((gone) => {
        for (const id of gone) {
          const callbacks = watchers.get(id);
          watchers.delete(id);
          for (const cb of callbacks ?? []) cb();
        }
      })
      .catch((e: unknown) => log.warn({ err: e }, 'could not re-check API keys; will try again'))
      .finally(() => (checking = false));
  }, intervalMs);
  timer.unref();

  return {
    watch(keyId, onRevoked) {
      let set = watchers.get(keyId);
      if (!set) watchers.set(keyId, (set = new Set()));
      set.add(onRevoked);
      const s = set;
      return () => {
        s.delete(onRevoked);
        if (s.size === 0 && watchers.get(keyId) === s) watchers.delete(keyId);
      };
    },
    stop: () => clearInterval(timer),
  };
}
