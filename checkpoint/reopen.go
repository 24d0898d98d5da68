package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// ReopenFilter selects the closed requests Reopen takes back: those in one
// of Statuses, closed at or after Since (when set), among RequestIDs (when
// given).
type ReopenFilter struct {
	Statuses   []batch.Status
	Since      time.Time
	RequestIDs []string
}

// Reopen moves the selected requests back to pending so the next run does
// them again: after a wrong configuration closed them (an older build's
// "not found", a wrong base URL), or once a cause of failure is fixed. The
// move must be one the lifecycle table allows; attempts start again from
// zero, the detail and the history say who reopened it, when and from
// what. The run must hold the ledger. It returns how many were reopened.
func (s *Store) Reopen(ctx context.Context, runID string, f ReopenFilter, actor string) (int, error) {
	if len(f.Statuses) == 0 {
		return 0, fmt.Errorf("reopen: %w: no status selected", batch.ErrTransition)
	}
	statuses, err := json.Marshal(f.Statuses)
	if err != nil {
		return 0, err
	}
	since := int64(0)
	if !f.Since.IsZero() {
		since = dbTime(f.Since)
	}
	ids, err := json.Marshal(f.RequestIDs)
	if err != nil {
		return 0, err
	}
	n := 0
	err = s.inTx(ctx, runID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, `SELECT request_id, request_type, state, detail FROM requests
			WHERE state IN (SELECT value FROM json_each(?1)) AND coalesce(completed_at, 0) >= ?2
				AND (json_array_length(?3) = 0 OR request_id IN (SELECT value FROM json_each(?3)))
			ORDER BY request_id`, string(statuses), since, string(ids))
		if err != nil {
			return err
		}
		type found struct {
			id     string
			cur    current
			detail string
		}
		var todo []found
		for rows.Next() {
			var f found
			if err := rows.Scan(&f.id, &f.cur.typ, &f.cur.status, &f.detail); err != nil {
				rows.Close()
				return err
			}
			todo = append(todo, f)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		now := s.opts.Now()
		for _, f := range todo {
			if err := batch.CheckMove(f.cur.typ, f.cur.status, batch.StatusPending); err != nil {
				return fmt.Errorf("request %s: %w", f.id, err)
			}
			detail := fmt.Sprintf("reopened by %s at %s (was %s: %s)", actor, now.UTC().Format(time.RFC3339),
				f.cur.status.Report(), f.detail)
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET state = ?, detail = ?, completed_at = NULL,
				attempts = 0, last_error_class = '', last_error = '', updated_at = ?, last_run_id = ?
				WHERE request_id = ?`, string(batch.StatusPending), detail, dbTime(now), runID, f.id); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO request_history (request_id, at, run_id, from_state, to_state, actor, note)
				VALUES (?, ?, ?, ?, ?, ?, 'reopened')`, f.id, dbTime(now), runID, string(f.cur.status),
				string(batch.StatusPending), actor); err != nil {
				return err
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("reopen: %w", err)
	}
	return n, nil
}

// HistoryEntry is one status change of a request.
type HistoryEntry struct {
	At       time.Time
	RunID    string
	From, To batch.Status
	Actor    string
	Note     string
}

// History returns the status changes of a request, oldest first.
func (s *Store) History(ctx context.Context, requestID string) ([]HistoryEntry, error) {
	rows, err := s.rdb.QueryContext(ctx, `SELECT at, coalesce(run_id, ''), from_state, to_state, actor, note
		FROM request_history WHERE request_id = ? ORDER BY history_id`, requestID)
	if err != nil {
		return nil, fmt.Errorf("history of request %s: %w", requestID, err)
	}
	defer rows.Close()
	var out []HistoryEntry
	for rows.Next() {
		var h HistoryEntry
		var at int64
		if err := rows.Scan(&at, &h.RunID, &h.From, &h.To, &h.Actor, &h.Note); err != nil {
			return nil, fmt.Errorf("history of request %s: %w", requestID, err)
		}
		h.At = time.UnixMicro(at).UTC()
		out = append(out, h)
	}
	return out, rows.Err()
}
