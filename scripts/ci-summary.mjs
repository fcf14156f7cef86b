#!/usr/bin/env node
/**
 * Reads vitest's JSON report and prints, as its last line, `N passed, N failed`.
 *
 * Counted as failed: failed test cases, skipped/todo/pending ones (a skipped test is a defect here),
 * a test file that failed without a failed test case (it did not load, or a hook threw), a missing or
 * unreadable report, a non-zero `--vitest-status` when the report shows no failure (an unhandled
 * error), and each `--also-failed <what>` given by the caller (e.g. typecheck).
 * Exits 1 when anything failed or nothing ran.
 *
 * Usage: node scripts/ci-summary.mjs <vitest.json> [--vitest-status <n>] [--also-failed <what>]...
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

const args = process.argv.slice(2);
const valuesOf = (flag) => args.flatMap((a, i) => (args[i - 1] === flag ? [a] : []));
const reportPath = args.find((a, i) => !a.startsWith('--') && !args[i - 1]?.startsWith('--'));
const alsoFailed = valuesOf('--also-failed');
const vitestStatus = Number(valuesOf('--vitest-status')[0] ?? 0);

/** @returns {{ passed: number, failed: number, notes: string[] }} */
function count(report) {
  let passed = 0;
  let failed = 0;
  const notes = [];
  for (const file of report.testResults ?? []) {
    const name = relative(process.cwd(), file.name ?? '?');
    const cases = file.assertionResults ?? [];
    const bad = cases.filter((c) => c.status !== 'passed');
    passed += cases.length - bad.length;
    failed += bad.length;
    for (const c of bad) notes.push(`${c.status}: ${name} > ${c.fullName ?? c.title}`);
    if (file.status === 'failed' && !bad.some((c) => c.status === 'failed')) {
      failed += 1;
      notes.push(`file failed: ${name}: ${String(file.message ?? '').split('\n')[0]}`);
    }
  }
  return { passed, failed, notes };
}

let result;
try {
  if (!reportPath) throw new Error('no report path given');
  result = count(JSON.parse(readFileSync(reportPath, 'utf8')));
} catch (e) {
  result = { passed: 0, failed: 1, notes: [`no test report: ${e.message}`] };
}
if (vitestStatus !== 0 && result.failed === 0) {
  result.failed = 1;
  result.notes.push(`vitest exited with status ${vitestStatus} but its report shows no failure (unhandled error?)`);
}
for (const what of alsoFailed) {
  result.failed += 1;
  result.notes.push(`failed: ${what}`);
}
if (result.passed + result.failed === 0) {
  result.failed = 1;
  result.notes.push('no tests ran');
}

const shown = result.notes.slice(0, 50);
for (const note of shown) console.log(`  ${note}`);
if (result.notes.length > shown.length) console.log(`  … and ${result.notes.length - shown.length} more`);
console.log(`${result.passed} passed, ${result.failed} failed`);
process.exitCode = result.failed > 0 ? 1 : 0;
