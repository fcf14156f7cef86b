import type { BackoffPolicy } from './definition.js';

/** Delay before the attempt after `attempt` (1-based): exponential, capped, with jitter. */
export function retryDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  const raw = Math.min(policy.maxMs, policy.baseMs * policy.factor ** Math.max(0, attempt - 1));
  const spread = raw * policy.jitter;
  return Math.max(0, Math.round(raw - spread + random() * 2 * spread));
}
