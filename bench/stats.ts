/** Small numeric helpers of the bench: percentiles and a bounded-concurrency loop. */

/** Nearest-rank percentile of ascending `sorted`. */
export function percentile(sorted: readonly number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/** p50/p90/p99/max of a sample, rounded to 0.1 ms. */
export function summarize(values: readonly number[]): { n: number; p50: number; p90: number; p99: number; max: number } {
  const s = [...values].sort((a, b) => a - b);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { n: s.length, p50: r(percentile(s, 50)), p90: r(percentile(s, 90)), p99: r(percentile(s, 99)), max: r(s[s.length - 1] ?? NaN) };
}

/** Runs `fn(0..total-1)` with at most `inFlight` calls pending. */
export async function inParallel(total: number, inFlight: number, fn: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  const lane = async () => {
    for (let i = next++; i < total; i = next++) await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(inFlight, total) }, lane));
}

export const sleepMs = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
