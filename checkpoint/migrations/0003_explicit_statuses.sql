-- 0003: no hidden statuses. Before, a deletion closed by
-- --deletion-complete-on submit was stored as 'delete_submitted' with a
-- completion time, while an open one awaiting verification was
-- 'delete_submitted' without one; every reader had to know the difference.
-- The closed ones get their own status now (batch.StatusDeleteAccepted).
UPDATE requests SET state = 'delete_accepted'
    WHERE state = 'delete_submitted' AND completed_at IS NOT NULL;
