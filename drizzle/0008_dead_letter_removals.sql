-- Dead-letter copies to delete from the stream (a job replayed by retryJob, a copy made late), written in the
-- transaction that makes them stale and removed once NATS has deleted the copy: a retryJob while NATS was
-- unreachable, in a process that stopped before NATS answered, left its job's old copy in the stream for good.
CREATE TABLE "dead_letter_removals" (
	"seq" bigint PRIMARY KEY NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
