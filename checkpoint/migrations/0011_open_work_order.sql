-- 0011: cheaper imports.
--
-- Open requests are worked by due date, then by their key (req_id: about
-- the order they were loaded) rather than by request id. With UUID-like
-- request ids the 0010 index took a random insert per new request, as the
-- unique request_id index does; keyed by the due date and req_id it grows
-- at its end. completed_at (always NULL in it) makes it a covering index for
-- queries that test it: counting or listing the open requests reads the
-- index alone.
--
-- The indexes of closing times and of the last run to touch a request only
-- ever serve queries for closed or touched requests (completed_at >= ?,
-- last_run_id = ?): made partial, they take no entry for a new request.
DROP INDEX requests_open;
CREATE INDEX requests_open ON requests (coalesce(due_at, 9223372036854775807), req_id, completed_at)
    WHERE completed_at IS NULL;
DROP INDEX requests_completed;
CREATE INDEX requests_completed ON requests (completed_at) WHERE completed_at IS NOT NULL;
DROP INDEX requests_last_run;
CREATE INDEX requests_last_run ON requests (last_run_id) WHERE last_run_id IS NOT NULL;
