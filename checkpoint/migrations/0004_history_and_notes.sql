-- 0004: every status change a request goes through, and the notes a
-- deletion's report must carry besides its status.

-- One row per status change: by a run (run_id), or by a person through a
-- command such as `ctdsr reopen` (actor says who, note says why).
CREATE TABLE request_history (
    history_id INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (request_id),
    at         INTEGER NOT NULL,
    run_id     TEXT REFERENCES runs (run_id),
    from_state TEXT NOT NULL,
    to_state   TEXT NOT NULL,
    actor      TEXT NOT NULL DEFAULT '',
    note       TEXT NOT NULL DEFAULT ''
) STRICT;

CREATE INDEX request_history_request ON request_history (request_id, history_id);

-- What a deletion's report says besides its status, e.g. the
-- contradictions --on-conflict union deleted despite.
ALTER TABLE deletions ADD COLUMN notes TEXT NOT NULL DEFAULT '';
