/**
 * How the CLI prints: aligned tables and a redrawn progress bar on a terminal; plain, one-record-per-line
 * text otherwise (pipes, files, CI), so `grep` and `awk` work on it.
 */
import type { JobUpdate, UserErrorFieldsFragment } from '../sdk/index.js';
import { displayWidth, fitWidth, padEndWidth } from './display-width.js';

export interface Output {
  /** Whether stdout is a terminal. */
  tty: boolean;
  out(line: string): void;
  err(line: string): void;
}

/** Exit code of a command whose output's reader went away: a tool killed by SIGPIPE gives 128 + 13. */
export const EXIT_READER_GONE = 141;

/**
 * Writes to stdout and stderr. A reader that went away (`longrun watch … | head -2`) ends the process at once
 * and quietly with EXIT_READER_GONE, as the tools it is piped with end: not with an EPIPE stack trace and exit 1,
 * the code of a FAILED job (node ignores SIGPIPE, so the write fails instead). Any other failed write (a full
 * disk: `longrun jobs > /full/jobs.txt`) ends it at once with `writeFailedExit`, saying so on stderr (when
 * stdout is the one that failed): not with a stack trace and exit 1 either.
 */
export function processOutput(writeFailedExit: number): Output {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(EXIT_READER_GONE);
      if (stream === process.stdout) process.stderr.write(`longrun: cannot write the output: ${e.code ?? e.message}\n`);
      process.exit(writeFailedExit);
    });
  }
  return {
    tty: Boolean(process.stdout.isTTY),
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
  };
}

/**
 * Columns padded to the widest cell on a terminal, in the columns each cell takes there (a CJK character or an
 * emoji two, a combining accent none); tab-separated otherwise. Every cell is made one line (`oneLine`), so a
 * line break or a tab in a cell cannot split its row or add a column, nor an escape drive the terminal.
 */
export function table(o: Output, header: string[], rows: string[][]): void {
  const cells = rows.map((r) => r.map(oneLine));
  if (!o.tty) {
    for (const r of cells) o.out(r.join('\t'));
    return;
  }
  const widths = header.map((h, i) => Math.max(displayWidth(h), ...cells.map((r) => displayWidth(r[i] ?? ''))));
  const line = (row: string[]) => row.map((c, i) => padEndWidth(c, widths[i]!)).join('  ').trimEnd();
  o.out(line(header));
  for (const r of cells) o.out(line(r));
}

const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text a job carries (a handler's progress message, its error) as one printable line: line breaks, tabs and
 * other control characters (terminal escapes among them) are written as `\n`, `\t`, `\u001b`, so they can
 * neither split an update's line nor drive the terminal; so are the bidirectional overrides and isolates
 * (U+202A-202E, U+2066-2069), which would turn the rest of the line around.
 */
export const oneLine = (text: string): string =>
  // eslint-disable-next-line no-control-regex
  text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, (c) => ESCAPES[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

const BAR_WIDTH = 30;
const pct = (p: number) => `${Math.round(p)}%`;

/** Prints one job's updates: a live bar on a terminal, one line per update otherwise. */
export function updatePrinter(o: Output): { update(u: JobUpdate): void; done(): void } {
  if (!o.tty) {
    return {
      update: (u) => o.out([u.at, u.jobId, u.state, pct(u.progress), oneLine(u.message ?? '')].join(' ').trimEnd()),
      done: () => {},
    };
  }
  let lastState = '';
  return {
    update(u) {
      const filled = Math.round((u.progress / 100) * BAR_WIDTH);
      const bar = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}]`;
      const cols = process.stdout.columns || 100;
      const text = `${bar} ${pct(u.progress).padStart(4)} ${u.state}${u.message ? `  ${oneLine(u.message)}` : ''}`;
      // A state change keeps the previous line; progress redraws the current one.
      if (lastState && u.state !== lastState && u.state !== 'RUNNING') process.stdout.write('\n');
      // Cut to the terminal's width in columns: a longer line would wrap, and the next redraw clear only its end.
      process.stdout.write(`\r\x1b[2K${fitWidth(text, cols - 1)}`);
      lastState = u.state;
    },
    done: () => void (lastState && process.stdout.write('\n')), // the bar's line, when one was drawn
  };
}

/** Prints refused input; exit 2. */
export function refused(o: Output, errors: readonly UserErrorFieldsFragment[]): number {
  for (const e of errors) o.err(`error ${e.code}${e.field ? ` ${e.field.join('.')}` : ''}: ${e.message}`);
  return 2;
}
