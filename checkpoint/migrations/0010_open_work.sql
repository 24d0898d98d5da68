-- 0010: a run reads its open requests a page at a time, by due date (none
-- last) then request id: a partial index of the open requests in that order.
CREATE INDEX requests_open ON requests (coalesce(due_at, 9223372036854775807), request_id) WHERE completed_at IS NULL;
