-- 0005: reports are views of the ledger (open requests, those closed within
-- the report window, those of a manifest), read through indexes rather
-- than scans of requests.
CREATE INDEX requests_completed ON requests (completed_at);
CREATE INDEX requests_manifest ON requests (manifest_id);
CREATE INDEX rejects_created ON rejects (created_at);
