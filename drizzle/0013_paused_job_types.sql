-- Paused job types (pauseJobType / resumeJobType): a row while the type is paused; workers read it at start and
-- every few seconds, and hear of each change at once over core NATS (<prefix>control.pauses).
CREATE TABLE "paused_job_types" (
	"type" text PRIMARY KEY NOT NULL,
	"paused_at" timestamp with time zone DEFAULT now() NOT NULL,
	"paused_by" text NOT NULL
);
