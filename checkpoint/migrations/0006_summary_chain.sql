-- 0006: the SHA-256 of each run's summary.json, so that a run's summary can
-- name the one before it and an auditor can follow the chain.
ALTER TABLE runs ADD COLUMN summary_sha256 TEXT;
