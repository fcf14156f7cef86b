-- Rate limits of job types (defineJobType's rateLimit): a row per limited type, made by the first worker that
-- asks, with the limit's state only (GCRA's tat, and the tokens granted to pulls not yet ended); the limit itself
-- comes from the worker's definition with each statement (src/db/rate-limits.ts).
CREATE TABLE "rate_limits" (
	"type" text PRIMARY KEY NOT NULL,
	"tat" timestamp with time zone DEFAULT now() NOT NULL,
	"held" integer DEFAULT 0 NOT NULL,
	"held_before" integer DEFAULT 0 NOT NULL,
	"period" bigint DEFAULT 0 NOT NULL,
	"period_start" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "rate_limits_held_not_negative" CHECK ("rate_limits"."held" >= 0 and "rate_limits"."held_before" >= 0)
);
