-- ctdsr:foreign-keys-off
-- 0009: retention. `ctdsr purge` removes a closed request's personal data
-- and keeps a SHA-256 of its email and user id as evidence, so a request
-- may hold neither any more: the requests table is rebuilt without the
-- CHECK that demanded one (SQLite cannot drop a CHECK in place) and with
-- the evidence columns. Everything else is as it was.
DROP VIEW request_rows;

CREATE TABLE requests_new (
    req_id           INTEGER PRIMARY KEY,
    request_id       TEXT NOT NULL UNIQUE,
    request_type     TEXT NOT NULL CHECK (request_type IN ('access', 'deletion')),
    email            TEXT NOT NULL DEFAULT '',
    user_id          TEXT NOT NULL DEFAULT '',
    submitted_at     INTEGER,
    due_at           INTEGER,
    content_hash     BLOB NOT NULL CHECK (length(content_hash) = 32),
    source_row       INTEGER NOT NULL,
    manifest_id      INTEGER NOT NULL REFERENCES manifests (manifest_id),
    state            TEXT NOT NULL DEFAULT 'pending',
    detail           TEXT NOT NULL DEFAULT '',
    attempts         INTEGER NOT NULL DEFAULT 0,
    last_error_class TEXT NOT NULL DEFAULT '',
    last_error       TEXT NOT NULL DEFAULT '',
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    completed_at     INTEGER,
    last_run_id      TEXT REFERENCES runs (run_id),
    email_sha256     TEXT NOT NULL DEFAULT '',
    user_id_sha256   TEXT NOT NULL DEFAULT '',
    purged_at        INTEGER,
    CHECK (email <> '' OR user_id <> '' OR purged_at IS NOT NULL)
) STRICT;

INSERT INTO requests_new (req_id, request_id, request_type, email, user_id, submitted_at, due_at, content_hash,
        source_row, manifest_id, state, detail, attempts, last_error_class, last_error, created_at, updated_at,
        completed_at, last_run_id)
    SELECT req_id, request_id, request_type, email, user_id, submitted_at, due_at, content_hash,
        source_row, manifest_id, state, detail, attempts, last_error_class, last_error, created_at, updated_at,
        completed_at, last_run_id
    FROM requests;

DROP TABLE requests;
ALTER TABLE requests_new RENAME TO requests;

CREATE INDEX requests_last_run ON requests (last_run_id);
CREATE INDEX requests_completed ON requests (completed_at);
CREATE INDEX requests_manifest ON requests (manifest_id);
CREATE INDEX requests_state_completed ON requests (state, completed_at);

CREATE VIEW request_rows (manifest_id, source_row, req_id) AS
    SELECT manifest_id, source_row, req_id FROM requests
    UNION ALL
    SELECT manifest_id, source_row, req_id FROM request_sources;
