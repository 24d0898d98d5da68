-- 0002: what a run needs to resume without repeating finished work, and to
-- render its reports from the ledger alone.

-- The access bundle's profiles of a request, replaced as a whole.
CREATE TABLE access_profiles (
    request_id         TEXT NOT NULL REFERENCES requests (request_id),
    ordinal            INTEGER NOT NULL,
    matched_by         TEXT NOT NULL CHECK (matched_by IN ('email', 'identity', 'both')),
    object_ids         TEXT NOT NULL, -- JSON array of strings
    identity           TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    name               TEXT NOT NULL DEFAULT '',
    phone              TEXT NOT NULL DEFAULT '',
    profile_data_json  TEXT NOT NULL,
    event_summary_json TEXT NOT NULL,
    platform_info_json TEXT NOT NULL,
    retrieved_at       INTEGER NOT NULL,
    PRIMARY KEY (request_id, ordinal)
) STRICT, WITHOUT ROWID;

-- One row per (request, event name) whose export is complete: a name is
-- exported whole in one transaction, or not at all.
CREATE TABLE access_event_names (
    request_id TEXT NOT NULL REFERENCES requests (request_id),
    event_name TEXT NOT NULL,
    expected   INTEGER NOT NULL,
    exported   INTEGER NOT NULL,
    done_at    INTEGER NOT NULL,
    PRIMARY KEY (request_id, event_name)
) STRICT, WITHOUT ROWID;

-- The exported events; seq orders the events of one (request, name).
CREATE TABLE access_events (
    request_id         TEXT NOT NULL,
    event_name         TEXT NOT NULL,
    seq                INTEGER NOT NULL,
    object_id          TEXT NOT NULL,
    identity           TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    event_time         INTEGER NOT NULL,
    event_props_json   TEXT NOT NULL,
    session_props_json TEXT NOT NULL,
    PRIMARY KEY (request_id, event_name, seq),
    FOREIGN KEY (request_id, event_name) REFERENCES access_event_names (request_id, event_name)
) STRICT, WITHOUT ROWID;

-- A deletion's plan (recorded before any id is sent) and its verification.
CREATE TABLE deletions (
    request_id          TEXT PRIMARY KEY REFERENCES requests (request_id),
    object_ids          TEXT NOT NULL, -- JSON array of strings
    identities          TEXT NOT NULL, -- JSON array of strings
    profiles            INTEGER NOT NULL,
    planned_at          INTEGER NOT NULL,
    delete_requested_at INTEGER,
    checks              INTEGER NOT NULL DEFAULT 0,
    last_checked_at     INTEGER,
    next_check_at       INTEGER
) STRICT, WITHOUT ROWID;

CREATE INDEX requests_last_run ON requests (last_run_id);
