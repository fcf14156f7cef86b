/**
 * Cron expressions of schedules (`upsertSchedule`), read by cron-parser: five fields (minute hour day-of-month
 * month day-of-week) or six (a seconds field first), or one of `@yearly @monthly @weekly @daily @hourly`, in an
 * IANA time zone.
 */
import { CronExpressionParser } from 'cron-parser';

/** The longest cron expression read (its fields' lists and ranges are short; a longer text is no cron). */
export const MAX_CRON_LENGTH = 200;

const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly']);

/** A schedule's times: the first one after an instant. */
export interface CronTimes {
  after(instant: Date): Date;
}

/** The expression's times in `timezone`, or why it is refused (a message for the user). */
export function cronTimes(expression: string, timezone: string): CronTimes | { error: string; field: 'cron' | 'timezone' } {
  if (!isTimeZone(timezone)) return { error: `unknown time zone ${JSON.stringify(timezone.slice(0, 100))}: give an IANA name such as Europe/Berlin, or UTC`, field: 'timezone' };
  const text = expression.trim();
  if (text.length > MAX_CRON_LENGTH) return { error: `cron must be at most ${MAX_CRON_LENGTH} characters`, field: 'cron' };
  const fields = text.split(/\s+/).length;
  if (!ALIASES.has(text) && fields !== 5 && fields !== 6) {
    return { error: 'cron must have five fields (minute hour day-of-month month day-of-week), six (seconds first), or be an alias such as @daily', field: 'cron' };
  }
  const at = (instant: Date) => CronExpressionParser.parse(text, { currentDate: instant, tz: timezone }).next().toDate();
  try {
    at(new Date()); // one that never comes (30 February) is refused here, as a malformed one is
  } catch (e) {
    return { error: `cron ${JSON.stringify(text.slice(0, 100))}: ${(e as Error).message}`, field: 'cron' };
  }
  return { after: at };
}

function isTimeZone(tz: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz.length > 0;
  } catch {
    return false;
  }
}
