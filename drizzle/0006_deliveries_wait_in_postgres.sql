-- A notification delivery that waits for a later try (after a failed attempt, or a turn its receiver had no slot
-- for) waits in PostgreSQL, not as a nak'ed message in JetStream, whose waiting messages counted toward the
-- notifier consumer's max_ack_pending and, once a dead receiver had 10,000 of them, held back every other
-- receiver's. next_attempt_at: when it is due (null: not waiting); requeues: the number of the latest message
-- the re-queue pass made for it (older ones are ignored). Both columns are added without rewriting the table;
-- the index (empty at first: no row waits yet) and the check read it once each (0.14 s each for a million
-- deliveries, in memory), the check with the table locked.
ALTER TABLE "notification_deliveries" ADD COLUMN "next_attempt_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD COLUMN "requeues" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "notification_deliveries_due" ON "notification_deliveries" USING btree ("next_attempt_at") WHERE status = 'PENDING' and next_attempt_at is not null;--> statement-breakpoint
ALTER TABLE "notification_deliveries" ADD CONSTRAINT "notification_deliveries_next_attempt_pending" CHECK ("notification_deliveries"."next_attempt_at" is null or "notification_deliveries"."status" = 'PENDING');