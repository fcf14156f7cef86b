-- No planner statistics for columns no query filters, joins or sorts on (payloads, results, messages,
-- trace headers): ANALYZE skips them, which was most of its cost (src/db/maintenance.ts).
ALTER TABLE "jobs" ALTER COLUMN "payload" SET STATISTICS 0, ALTER COLUMN "result" SET STATISTICS 0,
  ALTER COLUMN "error" SET STATISTICS 0, ALTER COLUMN "progress_message" SET STATISTICS 0,
  ALTER COLUMN "traceparent" SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE "job_events" ALTER COLUMN "result" SET STATISTICS 0, ALTER COLUMN "message" SET STATISTICS 0,
  ALTER COLUMN "error" SET STATISTICS 0;--> statement-breakpoint
ALTER TABLE "outbox" ALTER COLUMN "body" SET STATISTICS 0, ALTER COLUMN "traceparent" SET STATISTICS 0,
  ALTER COLUMN "subject" SET STATISTICS 0, ALTER COLUMN "msg_id" SET STATISTICS 0;
