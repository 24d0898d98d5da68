package checkpoint

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// moved records, inside the transaction that changes a request's status,
// what the lifecycle table asks of the change: a row of the request's
// history, for a status that closes the request the removal of its
// pending event parts, and for a status that discards
// (batch.StatusInfo.Discards) the removal of the request's exported
// profiles and events, which may be someone else's. A status that does not change leaves no history.
func moved(ctx context.Context, tx *sql.Tx, runID, requestID string, from, to batch.Status, at time.Time) error {
	if from == to {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO request_history (request_id, at, run_id, from_state, to_state)
		VALUES (?, ?, ?, ?, ?)`, requestID, dbTime(at), nullString(runID), string(from), string(to)); err != nil {
		return fmt.Errorf("record history: %w", err)
	}
	if to.Terminal() && !to.Discards() {
		// A closed request takes no more writes: its pending event parts
		// (an export that will not be finished) go.
		if err := dropParts(ctx, tx, "request_id = ? AND exported = 0", requestID); err != nil {
			return fmt.Errorf("drop unfinished event exports: %w", err)
		}
	}
	if !to.Discards() {
		return nil
	}
	for _, q := range []string{
		"DELETE FROM access_events WHERE request_id = ?",
		"DELETE FROM access_event_parts WHERE request_id = ?",
		"DELETE FROM access_event_names WHERE request_id = ?",
		"DELETE FROM access_profiles WHERE request_id = ?",
	} {
		if _, err := tx.ExecContext(ctx, q, requestID); err != nil {
			return fmt.Errorf("discard exported data: %w", err)
		}
	}
	return nil
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}
