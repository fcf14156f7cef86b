/** The human-readable summary printed after the JSON lines. */
import type { Figure } from './figure.js';

export function printTable(figures: Figure[], meta: { n: number; concurrency: number; host: string; quick: boolean; runs?: number; prefill?: number }): void {
  const rows = figures.map((f) => [f.label, f.value]);
  const w = Math.max(...rows.map((r) => r[0]!.length), 10);
  const out = [
    '',
    `longrun bench — N=${meta.n}, C=${meta.concurrency}${meta.quick ? ' (quick)' : ''}${meta.prefill ? `, prefilled with ${meta.prefill} finished jobs` : ', empty tables'}${meta.runs ? `, medians of ${meta.runs} runs` : ''}, ${meta.host}`,
    `| ${'figure'.padEnd(w)} | value`,
    `| ${'-'.repeat(w)} | -----`,
    ...rows.map(([l, v]) => `| ${l!.padEnd(w)} | ${v}`),
    '',
  ];
  process.stdout.write(out.join('\n') + '\n');
}
