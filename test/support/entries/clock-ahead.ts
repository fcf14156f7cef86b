/**
 * Imported first by an entry: this process's clock runs `CLOCK_AHEAD_MS` ahead of the machine's, so ahead of
 * PostgreSQL's and NATS's (a worker on a machine whose clock is off). `Date.now()` and `new Date()` shift;
 * timers and `performance.now()` do not (durations are right on such a machine too).
 */
const ahead = Number(process.env.CLOCK_AHEAD_MS ?? 0);
const RealDate = Date;

class ShiftedDate extends RealDate {
  constructor(...args: unknown[]) {
    if (args.length === 0) super(RealDate.now() + ahead);
    else super(...(args as [string | number | Date]));
  }

  static override now(): number {
    return RealDate.now() + ahead;
  }
}

globalThis.Date = ShiftedDate as DateConstructor;
