-- Jobs that must start by a deadline (SubmitJobInput.startBy): no attempt starts after start_by (the claim's
-- condition), and a job still waiting then is FAILED 'expired: not started by …' (a worker given its message, or
-- the API's expiry pass). A nullable column without a default: no table rewrite. The pass finds due jobs in a
-- partial index of the waiting jobs that have one, so jobs without it cost that index nothing.
ALTER TABLE "jobs" ADD COLUMN "start_by" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "jobs_start_by" ON "jobs" USING btree ("start_by") WHERE start_by is not null and state in ('QUEUED', 'RETRYING');