-- Delivery bookkeeping for the sync engine: whether a mutation has been sent at least once
-- (the server may already hold it; it answers a resend from its receipt), how often, and the
-- last error in words.
ALTER TABLE outbox ADD COLUMN state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'in_flight'));
ALTER TABLE outbox ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outbox ADD COLUMN last_error TEXT;
