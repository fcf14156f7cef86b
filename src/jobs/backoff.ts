import { MAX_DELAY_MS, type BackoffPolicy } from './definition.js';

/**
 * Delay before the attempt after `attempt` (1-based): exponential, capped, with jitter; never more than
 * MAX_DELAY_MS (the jitter spreads a capped delay both ways, and the RETRYING write's delay is an int4).
 */
export function retryDelay(policy: BackoffPolicy, attempt: number, random: () => number = Math.random): number {
  // A base of 0 stays 0 (0 times a factor^n that overflows to Infinity would be NaN).
  const grown = policy.baseMs && policy.baseMs * policy.factor ** Math.max(0, attempt - 1);
  const raw = Math.min(policy.maxMs, grown);
  const spread = raw * policy.jitter;
  return Math.min(MAX_DELAY_MS, Math.max(0, Math.round(raw - spread + random() * 2 * spread)));
}
