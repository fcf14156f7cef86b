-- Job.attemptErrors reads a job's error rows through this index instead of its whole history (a long job
-- records thousands of progress rows). Partial: only error rows are written to it. Built in about 0.1 s per
-- million history rows, during which history writes wait.
CREATE INDEX "job_events_errors" ON "job_events" USING btree ("job_id","seq") WHERE kind = 'error';