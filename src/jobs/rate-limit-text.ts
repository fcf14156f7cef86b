/**
 * A job type's rate limit as the CLI (`stats`, `types`, `rate-limit`) and the dashboard show it: `10/1000ms`,
 * with `,burst=1` when its bucket is smaller than `max`, and ` (override)` while an admin's override
 * (setJobTypeRateLimit) holds; `none` when the type has no limit. No imports: the dashboard's page bundles it.
 */
export const rateLimitText = (l: { max: number; perMs: number; burst: number; overridden?: boolean } | null | undefined, none: string): string =>
  l ? `${l.max}/${l.perMs}ms${l.burst === l.max ? '' : `,burst=${l.burst}`}${l.overridden ? ' (override)' : ''}` : none;
