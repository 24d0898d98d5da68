-- 0001: the ledger of issue 3 ("Manifests in, ledger down").
--
-- Times are INTEGER microseconds since the Unix epoch (UTC); NULL means "not
-- known / not yet". Text columns that may be absent are '' rather than NULL.

-- Marks the file as a ctdsr ledger ('ctds'); Open refuses a database that
-- has tables but not this id.
PRAGMA application_id = 1668572275;

-- One row per `ctdsr run`. outcome is NULL while the run is going or after it
-- was killed; a run whose lock was taken over is marked 'abandoned'.
CREATE TABLE runs (
    run_id       TEXT PRIMARY KEY,
    started_at   INTEGER NOT NULL,
    ended_at     INTEGER,
    args         TEXT NOT NULL, -- JSON array, as given (without secrets)
    tool_version TEXT NOT NULL,
    pid          INTEGER NOT NULL,
    hostname     TEXT NOT NULL,
    outcome      TEXT
) STRICT;

-- At most one row: the run that currently owns the ledger.
CREATE TABLE ledger_lock (
    id           INTEGER PRIMARY KEY CHECK (id = 1),
    run_id       TEXT NOT NULL REFERENCES runs (run_id),
    pid          INTEGER NOT NULL,
    hostname     TEXT NOT NULL,
    started_at   INTEGER NOT NULL,
    heartbeat_at INTEGER NOT NULL
) STRICT;

-- A manifest file, identified by the SHA-256 of its bytes. rows and
-- loaded_at stay NULL until every row was imported.
CREATE TABLE manifests (
    manifest_id  INTEGER PRIMARY KEY,
    sha256       TEXT NOT NULL UNIQUE CHECK (length(sha256) = 64),
    path         TEXT NOT NULL,
    format       TEXT NOT NULL,
    rows         INTEGER,
    loaded_at    INTEGER,
    first_run_id TEXT NOT NULL REFERENCES runs (run_id),
    created_at   INTEGER NOT NULL
) STRICT;

-- Which manifests each run read or found already loaded.
CREATE TABLE run_manifests (
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    manifest_id INTEGER NOT NULL REFERENCES manifests (manifest_id),
    attached_at INTEGER NOT NULL,
    PRIMARY KEY (run_id, manifest_id)
) STRICT, WITHOUT ROWID;

-- One row per data-subject request. manifest_id and source_row say where it
-- was first read (the file is the manifest's path); content_hash is
-- batch.Request.ContentHash (32 bytes).
-- req_id is an internal key: new requests append to the table, and only the
-- narrow request_id index takes random inserts.
CREATE TABLE requests (
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
    CHECK (email <> '' OR user_id <> '')
) STRICT;

-- Further manifest rows that repeated a request with the same content (a
-- duplicate row, or the same request in another manifest): a source, not a
-- request. The first source is on the request itself.
CREATE TABLE request_sources (
    manifest_id INTEGER NOT NULL REFERENCES manifests (manifest_id),
    source_row  INTEGER NOT NULL,
    req_id      INTEGER NOT NULL REFERENCES requests (req_id),
    PRIMARY KEY (manifest_id, source_row)
) STRICT, WITHOUT ROWID;

-- Every manifest row that became or repeated a request.
CREATE VIEW request_rows (manifest_id, source_row, req_id) AS
    SELECT manifest_id, source_row, req_id FROM requests
    UNION ALL
    SELECT manifest_id, source_row, req_id FROM request_sources;

-- Manifest rows (or whole files, source_row 0) that did not become a request.
CREATE TABLE rejects (
    reject_id   INTEGER PRIMARY KEY,
    manifest_id INTEGER NOT NULL REFERENCES manifests (manifest_id),
    source_file TEXT NOT NULL,
    source_row  INTEGER NOT NULL,
    request_id  TEXT NOT NULL DEFAULT '',
    column_name TEXT NOT NULL DEFAULT '',
    reason      TEXT NOT NULL,
    run_id      TEXT NOT NULL REFERENCES runs (run_id),
    created_at  INTEGER NOT NULL,
    UNIQUE (manifest_id, source_row, reason)
) STRICT;
