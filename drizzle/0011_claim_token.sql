-- A claim's token, chosen by its worker: a worker whose claim committed but whose answer was lost (the
-- connection dropped after the commit) finds by it, when its retried claim is refused, that the claim is its
-- own, and runs the job instead of waiting out its own lease (which used up an attempt without running it:
-- with maxAttempts 1, a dead letter that never ran). A nullable column without a default: no table rewrite.
ALTER TABLE "jobs" ADD COLUMN "claim_token" uuid;
