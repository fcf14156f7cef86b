-- Scheduled jobs (SubmitJobInput.runAt): the job's run_at, and on its outbox entry not_before, the instant
-- before which the relay does not publish it (JetStream 2.9 has no delayed delivery, so the message waits in
-- PostgreSQL, not in the stream). Nullable columns without a default: no table rewrite. The relay's index of
-- entries to publish at once leaves scheduled entries out, so a large schedule costs its passes nothing; those
-- are found by due time in outbox_scheduled.
DROP INDEX "outbox_unpublished";--> statement-breakpoint
ALTER TABLE "jobs" ADD COLUMN "run_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "not_before" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "outbox_scheduled" ON "outbox" USING btree ("not_before") WHERE published_at is null and not_before is not null;--> statement-breakpoint
CREATE INDEX "outbox_unpublished" ON "outbox" USING btree ("id") WHERE published_at is null and not_before is null;
