/** Wrong command-line usage: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * An option's whole number, in decimal digits only (`0x10`, `1e3`, `2.0` and an empty value are refused, as
 * the server's settings refuse them, rather than read as 16, 1000, 2 or 0).
 */
export function wholeNumber(option: string, v: string, what = 'a whole number'): number {
  if (!/^-?\d+$/.test(v.trim())) throw new UsageError(`--${option} must be ${what} in decimal digits`);
  return Number(v);
}
