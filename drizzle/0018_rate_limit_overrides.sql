-- An admin's override of a rate-limited type's limit (setJobTypeRateLimit): while set, the rate-limit statements
-- use it instead of the limit each worker passes from its definition (src/db/rate-limits.ts). Nullable columns
-- without defaults: no table rewrite; a row without an override (all null) works as before.
ALTER TABLE "rate_limits" ADD COLUMN "override_max" integer;--> statement-breakpoint
ALTER TABLE "rate_limits" ADD COLUMN "override_per_ms" integer;--> statement-breakpoint
ALTER TABLE "rate_limits" ADD COLUMN "override_burst" integer;--> statement-breakpoint
ALTER TABLE "rate_limits" ADD COLUMN "override_set_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "rate_limits" ADD CONSTRAINT "rate_limits_override_whole" CHECK (("rate_limits"."override_max" is null) = ("rate_limits"."override_per_ms" is null) and ("rate_limits"."override_max" is null) = ("rate_limits"."override_burst" is null) and ("rate_limits"."override_max" is null) = ("rate_limits"."override_set_at" is null));--> statement-breakpoint
ALTER TABLE "rate_limits" ADD CONSTRAINT "rate_limits_override_positive" CHECK ("rate_limits"."override_max" > 0 and "rate_limits"."override_per_ms" > 0 and "rate_limits"."override_burst" between 1 and "rate_limits"."override_max");