-- A schedule's start window (ScheduleInput.startWithinMs): each run's job gets startBy = its run time + this,
-- so a run made late (every API process down past it) expires instead of running late. Nullable, no default:
-- no table rewrite, and a schedule without it (null) runs as before.
ALTER TABLE "schedules" ADD COLUMN "start_within_ms" integer;