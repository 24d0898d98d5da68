package checkpoint

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// resweepDueSQL selects the verified deletions due a second sweep: args
// are the verified status, the latest verification time, and the limit.
// A purged request is never due: its email and user id are gone, so a
// second sweep could look nothing up, yet would be recorded as done.
const resweepDueSQL = selectRequest + ` JOIN deletions d ON d.request_id = r.request_id
	WHERE r.state = ? AND r.completed_at <= ? AND d.reswept_at IS NULL AND r.purged_at IS NULL
	ORDER BY r.completed_at, r.request_id LIMIT ?`

// ResweepDue returns up to limit verified deletions verified at or before
// verifiedBefore and never swept again, the oldest first, with their plans.
// Purged requests are left out: they have nothing left to look up.
func (s *Store) ResweepDue(ctx context.Context, verifiedBefore time.Time, limit int) ([]batch.Work, error) {
	rows, err := s.rdb.QueryContext(ctx, resweepDueSQL, string(batch.StatusVerified), dbTime(verifiedBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("read deletions due a second sweep: %w", err)
	}
	defer rows.Close()
	var out []batch.Work
	for rows.Next() {
		rec, err := scanRequest(rows)
		if err != nil {
			return nil, fmt.Errorf("read deletions due a second sweep: %w", err)
		}
		out = append(out, batch.Work{Request: rec.Request, Status: rec.Status})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read deletions due a second sweep: %w", err)
	}
	for i := range out {
		var objects, idents string
		plan := &batch.DeletionPlan{}
		if err := s.rdb.QueryRowContext(ctx, `SELECT object_ids, identities, profiles, notes FROM deletions WHERE request_id = ?`,
			out[i].ID).Scan(&objects, &idents, &plan.Profiles, &plan.Notes); err != nil {
			return nil, fmt.Errorf("read plan of request %s: %w", out[i].ID, err)
		}
		if err := json.Unmarshal([]byte(objects), &plan.ObjectIDs); err != nil {
			return nil, fmt.Errorf("request %s: object ids: %w", out[i].ID, err)
		}
		if err := json.Unmarshal([]byte(idents), &plan.Identities); err != nil {
			return nil, fmt.Errorf("request %s: identities: %w", out[i].ID, err)
		}
		out[i].Plan = plan
	}
	return out, nil
}

// RecordResweep records the second sweep of a verified deletion: the time
// of the sweep, and when the subject is back, the move to reappeared with
// its evidence.
func (s *Store) RecordResweep(ctx context.Context, runID, requestID string, r batch.Resweep) error {
	err := s.update(ctx, runID, requestID, func(tx *sql.Tx, cur current) error {
		if err := cur.ofType(batch.Deletion); err != nil {
			return err
		}
		var swept sql.NullInt64
		if err := tx.QueryRowContext(ctx, "SELECT reswept_at FROM deletions WHERE request_id = ?", requestID).Scan(&swept); err != nil {
			return fmt.Errorf("%w: the request has no deletion to sweep again (%v)", batch.ErrTransition, err)
		}
		if cur.status != batch.StatusVerified || swept.Valid {
			return fmt.Errorf("%w: the request is %s, not a verified deletion awaiting its second sweep", batch.ErrTransition, cur.status)
		}
		if r.Back {
			if err := batch.CheckMove(cur.typ, cur.status, batch.StatusReappeared); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET state = ?, detail = ?, completed_at = ? WHERE request_id = ?`,
				string(batch.StatusReappeared), r.Detail, dbTime(r.At), requestID); err != nil {
				return err
			}
			if err := moved(ctx, tx, runID, requestID, cur.status, batch.StatusReappeared, s.opts.Now()); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, "UPDATE deletions SET reswept_at = ? WHERE request_id = ?", dbTime(r.At), requestID); err != nil {
			return err
		}
		return touch(ctx, tx, runID, requestID, s.opts.Now())
	})
	if err != nil {
		return fmt.Errorf("record second sweep of request %s: %w", requestID, err)
	}
	return nil
}
