-- Recurring jobs (upsertSchedule / deleteSchedule): a row per schedule, named per owner. The API's scheduler
-- pass makes each due one's job in the transaction that moves its next_run_at on (src/jobs/schedules.ts).
CREATE TABLE "schedules" (
	"owner" text NOT NULL,
	"name" text NOT NULL,
	"type" text NOT NULL,
	"payload" jsonb NOT NULL,
	"cron" text NOT NULL,
	"timezone" text NOT NULL,
	"max_attempts" integer,
	"timeout_ms" integer,
	"notify" jsonb DEFAULT '[]'::jsonb NOT NULL,
	"paused" boolean DEFAULT false NOT NULL,
	"next_run_at" timestamp with time zone NOT NULL,
	"last_run_at" timestamp with time zone,
	"last_job_id" uuid,
	"runs" bigint DEFAULT 0 NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "schedules_owner_name_pk" PRIMARY KEY("owner","name")
);
--> statement-breakpoint
CREATE INDEX "schedules_due" ON "schedules" USING btree ("next_run_at") WHERE not paused;