-- 0008: the second sweep of a verified deletion (--resweep-after): when it
-- looked the subject up once more.
ALTER TABLE deletions ADD COLUMN reswept_at INTEGER;
CREATE INDEX requests_state_completed ON requests (state, completed_at);
