CREATE TYPE "public"."job_state" AS ENUM('QUEUED', 'RUNNING', 'RETRYING', 'SUCCEEDED', 'FAILED', 'CANCELLED');--> statement-breakpoint
CREATE TABLE "api_keys" (
	"id" text PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"admin" boolean DEFAULT false NOT NULL,
	"key_hash" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_hash_is_sha256" CHECK ("api_keys"."key_hash" ~ '^[0-9a-f]{64}$'),
	CONSTRAINT "api_keys_owner_not_empty" CHECK (length("api_keys"."owner") between 1 and 100)
);
--> statement-breakpoint
CREATE TABLE "job_events" (
	"job_id" uuid NOT NULL,
	"seq" integer NOT NULL,
	"kind" text NOT NULL,
	"state" "job_state" NOT NULL,
	"progress" real NOT NULL,
	"message" text,
	"attempt" integer NOT NULL,
	"result" jsonb,
	"error" text,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "job_events_job_id_seq_pk" PRIMARY KEY("job_id","seq")
);
--> statement-breakpoint
CREATE TABLE "job_notifications" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" uuid NOT NULL,
	"channel" text NOT NULL,
	"target" text NOT NULL,
	"on_states" "job_state"[] NOT NULL,
	"subject" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "jobs" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner" text NOT NULL,
	"type" text NOT NULL,
	"state" "job_state" DEFAULT 'QUEUED' NOT NULL,
	"payload" jsonb NOT NULL,
	"progress" real DEFAULT 0 NOT NULL,
	"progress_message" text,
	"attempts" integer DEFAULT 0 NOT NULL,
	"max_attempts" integer NOT NULL,
	"timeout_ms" integer NOT NULL,
	"result" jsonb,
	"error" text,
	"idempotency_key" text,
	"seq" integer DEFAULT 1 NOT NULL,
	"seq_reserved" integer DEFAULT 1 NOT NULL,
	"series" integer DEFAULT 1 NOT NULL,
	"cancel_requested" boolean DEFAULT false NOT NULL,
	"lease_until" timestamp with time zone,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"started_at" timestamp with time zone,
	"finished_at" timestamp with time zone,
	"next_attempt_at" timestamp with time zone,
	"msg_seq" bigint,
	"dead_lettered_at" timestamp with time zone,
	"dead_letter_seq" integer,
	"traceparent" text,
	CONSTRAINT "jobs_finished_at_iff_terminal" CHECK (("jobs"."finished_at" is not null) = ("jobs"."state" in ('SUCCEEDED', 'FAILED', 'CANCELLED'))),
	CONSTRAINT "jobs_attempts_in_range" CHECK ("jobs"."attempts" >= 0 and "jobs"."attempts" <= "jobs"."max_attempts"),
	CONSTRAINT "jobs_max_attempts_in_range" CHECK ("jobs"."max_attempts" between 1 and 100),
	CONSTRAINT "jobs_progress_in_range" CHECK ("jobs"."progress" >= 0 and "jobs"."progress" <= 100),
	CONSTRAINT "jobs_seq_reserved" CHECK ("jobs"."seq_reserved" >= "jobs"."seq"),
	CONSTRAINT "jobs_next_attempt_only_retrying" CHECK ("jobs"."next_attempt_at" is null or "jobs"."state" = 'RETRYING')
);
--> statement-breakpoint
CREATE TABLE "notification_deliveries" (
	"id" uuid PRIMARY KEY NOT NULL,
	"notification_id" bigint NOT NULL,
	"job_id" uuid NOT NULL,
	"series" integer NOT NULL,
	"job_state" "job_state" NOT NULL,
	"status" text DEFAULT 'PENDING' NOT NULL,
	"attempts" integer DEFAULT 0 NOT NULL,
	"last_error" text,
	"body" jsonb NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"finished_at" timestamp with time zone,
	CONSTRAINT "notification_deliveries_finished" CHECK (("notification_deliveries"."finished_at" is not null) = ("notification_deliveries"."status" <> 'PENDING'))
);
--> statement-breakpoint
CREATE TABLE "outbox" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"job_id" uuid NOT NULL,
	"subject" text NOT NULL,
	"msg_id" text NOT NULL,
	"body" jsonb NOT NULL,
	"traceparent" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"published_at" timestamp with time zone
);
--> statement-breakpoint
ALTER TABLE "job_events" ADD CONSTRAINT "job_events_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "job_notifications" ADD CONSTRAINT "job_notifications_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_notification_id_job_notifications_id_fk" FOREIGN KEY ("notification_id") REFERENCES "public"."job_notifications"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_job_id_jobs_id_fk" FOREIGN KEY ("job_id") REFERENCES "public"."jobs"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "job_notifications_job" ON "job_notifications" USING btree ("job_id");--> statement-breakpoint
CREATE UNIQUE INDEX "jobs_owner_idempotency_key" ON "jobs" USING btree ("owner","idempotency_key");--> statement-breakpoint
CREATE INDEX "jobs_created" ON "jobs" USING btree ("created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "jobs_owner_created" ON "jobs" USING btree ("owner","created_at" DESC NULLS LAST,"id" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "jobs_type_state" ON "jobs" USING btree ("type","state");--> statement-breakpoint
CREATE INDEX "jobs_dead_lettered" ON "jobs" USING btree ("dead_lettered_at" DESC NULLS LAST,"id" DESC NULLS LAST) WHERE dead_lettered_at is not null;--> statement-breakpoint
CREATE INDEX "jobs_finished" ON "jobs" USING btree ("finished_at") WHERE finished_at is not null;--> statement-breakpoint
CREATE INDEX "jobs_active_updated" ON "jobs" USING btree ("state","updated_at") WHERE state in ('QUEUED', 'RETRYING', 'RUNNING');--> statement-breakpoint
CREATE UNIQUE INDEX "notification_deliveries_once" ON "notification_deliveries" USING btree ("notification_id","series","job_state");--> statement-breakpoint
CREATE INDEX "notification_deliveries_job" ON "notification_deliveries" USING btree ("job_id");--> statement-breakpoint
CREATE INDEX "outbox_unpublished" ON "outbox" USING btree ("id") WHERE published_at is null;