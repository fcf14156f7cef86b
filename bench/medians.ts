/**
 * `--runs N`: the figures of N runs reduced to their medians. Each number in a figure's value (`2,104
 * jobs/s`, `6.4 / 12.9 ms`) is replaced by the median of that number over the runs, so the table reads as
 * one run's would; the JSON line keeps every run's value.
 */
import type { Figure } from './figure.js';

const NUMBER = /\d[\d,]*(?:\.\d+)?/g;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const render = (x: number, like: string) => {
  const digits = like.split('.')[1]?.length ?? 0;
  return x.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
};

/** One figure per key, in the first run's order, with the median of each number of its value. */
export function medianFigures(runs: Figure[][]): Figure[] {
  const byKey = new Map<string, Figure[]>();
  for (const run of runs) for (const f of run) byKey.set(f.figure, [...(byKey.get(f.figure) ?? []), f]);
  return [...byKey.values()].map((fs) => {
    const first = fs[0]!;
    const values = fs.map((f) => f.value);
    const numbers = values.map((v) => (v.match(NUMBER) ?? []).map((n) => Number(n.replaceAll(',', ''))));
    const comparable = fs.length === runs.length && numbers.every((n) => n.length === numbers[0]!.length && n.length > 0);
    if (!comparable) return { ...first, value: values.join(' | '), detail: { runs: values } };
    let i = 0;
    const value = first.value.replace(NUMBER, (like) => {
      const at = i++;
      return render(median(numbers.map((n) => n[at]!)), like);
    });
    return { ...first, value, detail: { runs: values } };
  });
}

/** `node --import tsx bench/medians.ts run1.jsonl run2.jsonl …`: the medians table of separate bench runs. */
if (import.meta.url === `file://${process.argv[1]}`) {
  const { readFileSync } = await import('node:fs');
  const { printTable } = await import('./table.js');
  const files = process.argv.slice(2);
  const runs = files.map((file) =>
    readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { figure: string; label?: string; value: string; host?: string; n?: number; concurrency?: number })
      .filter((f) => f.figure !== 'meta' && f.label !== undefined && !f.figure.endsWith('_median'))
      .map((f): Figure => ({ figure: f.figure, label: f.label!, value: f.value, detail: {} })),
  );
  const meta = JSON.parse(readFileSync(files[0]!, 'utf8').split('\n').find((l) => l.includes('"figure":"meta"'))!) as { n: number; concurrency: number; host: string; prefill?: number };
  printTable(medianFigures(runs), { ...meta, quick: false, runs: runs.length });
}
