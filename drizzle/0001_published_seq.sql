DROP INDEX "jobs_owner_idempotency_key";--> statement-breakpoint
DROP INDEX "jobs_type_state";--> statement-breakpoint
ALTER TABLE "outbox" ADD COLUMN "stream_seq" bigint;--> statement-breakpoint
CREATE INDEX "outbox_job" ON "outbox" USING btree ("job_id");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_owner_idempotency_key" ON "jobs" USING btree ("owner","idempotency_key") WHERE idempotency_key is not null;--> statement-breakpoint
CREATE INDEX "jobs_type_state" ON "jobs" USING btree ("type","state") WHERE state in ('QUEUED', 'RUNNING', 'RETRYING', 'FAILED');