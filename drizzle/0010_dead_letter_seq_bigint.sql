-- The dead-letter stream's sequences are 64-bit and grow for the stream's whole life: past 2^31 (at 100 dead
-- letters a second, in 250 days) recording a copy failed with "integer out of range" for every job after.
-- Not `ALTER COLUMN … TYPE bigint`, which rewrites the whole jobs table under an exclusive lock: a new column
-- (no rewrite), the values copied for the dead-lettered jobs only, then the old column dropped and the new one
-- renamed (both catalogue changes). No index reads the column.
ALTER TABLE "jobs" ADD COLUMN "dead_letter_seq_64" bigint;--> statement-breakpoint
UPDATE "jobs" SET "dead_letter_seq_64" = "dead_letter_seq" WHERE "dead_letter_seq" IS NOT NULL;--> statement-breakpoint
ALTER TABLE "jobs" DROP COLUMN "dead_letter_seq";--> statement-breakpoint
ALTER TABLE "jobs" RENAME COLUMN "dead_letter_seq_64" TO "dead_letter_seq";
