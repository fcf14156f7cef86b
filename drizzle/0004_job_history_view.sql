-- A job's first history row (seq 1: QUEUED, attempt 0, at created_at) follows from the job row itself, so it
-- is no longer stored: job_history adds it to the stored rows (job_events). One insert less per submit: the
-- job_events insert was a seventh of a 1,000-job submit statement (docs/performance.md).
CREATE VIEW "job_history" AS
  SELECT "id" AS "job_id", 1 AS "seq", 'state'::text AS "kind", 'QUEUED'::"job_state" AS "state", 0::real AS "progress",
    NULL::text AS "message", 0 AS "attempt", NULL::jsonb AS "result", NULL::text AS "error", "created_at" AS "at"
  FROM "jobs"
  UNION ALL
  SELECT "job_id", "seq", "kind", "state", "progress", "message", "attempt", "result", "error", "at" FROM "job_events";--> statement-breakpoint
DELETE FROM "job_events" WHERE "seq" = 1;
