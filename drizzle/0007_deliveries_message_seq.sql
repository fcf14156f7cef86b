-- A notification delivery records where the stream put its latest message (msg_seq, written when the relay
-- publishes it), so that the reconciler can tell a message JetStream lost (a power loss on nats-server 2.9, a
-- purged stream) from one waiting behind a backlog, and re-queue the delivery. The partial index holds the
-- deliveries to be sent from a message in the stream (PENDING, not waiting), the reconciler's candidates.
-- Adding a nullable column does not rewrite the table; building the index reads it once.
ALTER TABLE "notification_deliveries" ADD COLUMN "msg_seq" bigint;--> statement-breakpoint
CREATE INDEX "notification_deliveries_in_stream" ON "notification_deliveries" USING btree ("updated_at") WHERE status = 'PENDING' and next_attempt_at is null;