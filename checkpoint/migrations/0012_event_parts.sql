-- 0012: an event export is written page by page.
--
-- The events a run finds of one (request, event name) go to the ledger a
-- page at a time, into parts (batch.Store.BeginEvents), rather than being
-- held until the name is complete. A part is pending (exported = 0) until
-- the run exports the name with it (FinishEvents), in one transaction with
-- the access_event_names row: the reports and OpenWork see a name's events
-- only then, so a name is still exported whole or not at all. run_id is
-- the run that began a part: a pending part of another run is what a
-- killed export left, and is removed when the name is exported again.
CREATE TABLE access_event_parts (
    part_id    INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES requests (request_id),
    event_name TEXT NOT NULL,
    run_id     TEXT REFERENCES runs (run_id), -- NULL for the parts this migration made
    exported   INTEGER NOT NULL DEFAULT 0 CHECK (exported IN (0, 1))
) STRICT;
CREATE INDEX access_event_parts_name ON access_event_parts (request_id, event_name);

-- Every name exported so far becomes one exported part.
INSERT INTO access_event_parts (request_id, event_name, run_id, exported)
    SELECT request_id, event_name, NULL, 1 FROM access_event_names ORDER BY request_id, event_name;

-- Events belong to a part; seq is the order they were written in within
-- it. The reports order a name's events canonically (time, objectId, the
-- properties, the rest) through access_events_order, which also serves
-- the deletes by request.
CREATE TABLE access_events_0012 (
    part_id            INTEGER NOT NULL REFERENCES access_event_parts (part_id),
    seq                INTEGER NOT NULL,
    request_id         TEXT NOT NULL,
    event_name         TEXT NOT NULL,
    object_id          TEXT NOT NULL,
    identity           TEXT NOT NULL DEFAULT '',
    email              TEXT NOT NULL DEFAULT '',
    event_time         INTEGER NOT NULL,
    event_props_json   TEXT NOT NULL,
    session_props_json TEXT NOT NULL,
    PRIMARY KEY (part_id, seq)
) STRICT, WITHOUT ROWID;
INSERT INTO access_events_0012 (part_id, seq, request_id, event_name, object_id, identity, email, event_time,
        event_props_json, session_props_json)
    SELECT p.part_id, e.seq, e.request_id, e.event_name, e.object_id, e.identity, e.email, e.event_time,
        e.event_props_json, e.session_props_json
    FROM access_events e JOIN access_event_parts p ON p.request_id = e.request_id AND p.event_name = e.event_name
    ORDER BY p.part_id, e.seq;
DROP TABLE access_events;
ALTER TABLE access_events_0012 RENAME TO access_events;
CREATE INDEX access_events_order ON access_events (request_id, event_name, event_time, object_id);
