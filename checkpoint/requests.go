package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// RequestRecord is a request as the ledger holds it.
type RequestRecord struct {
	batch.Request // Source is where it was first read

	ManifestSHA    string // of the manifest it was first read from
	Status         batch.Status
	Detail         string
	Attempts       int
	LastErrorClass string
	LastError      string
	CreatedAt      time.Time
	UpdatedAt      time.Time
	CompletedAt    time.Time // zero while open
	LastRunID      string    // the last run that changed it; "" if none yet
	Seq            int64     // its key in the ledger: requests are numbered as they are loaded
}

const selectRequest = `SELECT r.request_id, r.request_type, r.email, r.user_id, r.submitted_at, r.due_at,
	m.path, r.source_row, m.sha256, r.state, r.detail, r.attempts, r.last_error_class, r.last_error,
	r.created_at, r.updated_at, r.completed_at, coalesce(r.last_run_id, ''), r.req_id
	FROM requests r JOIN manifests m ON m.manifest_id = r.manifest_id`

// Request returns the request with this ID; false if the ledger has none.
func (s *Store) Request(ctx context.Context, id string) (RequestRecord, bool, error) {
	rec, err := scanRequest(s.rdb.QueryRowContext(ctx, selectRequest+" WHERE r.request_id = ?", id))
	if errors.Is(err, sql.ErrNoRows) {
		return RequestRecord{}, false, nil
	}
	if err != nil {
		return RequestRecord{}, false, fmt.Errorf("read request %s: %w", id, err)
	}
	return rec, true, nil
}

// SetStatus moves a request to st with a human-readable detail. A status
// that ends the request sets its completion time to at. st must be one the
// request's type can reach.
func (s *Store) SetStatus(ctx context.Context, runID, requestID string, st batch.Status, detail string, at time.Time) error {
	err := s.update(ctx, runID, requestID, func(tx *sql.Tx, cur current) error {
		if err := batch.CheckMove(cur.typ, cur.status, st); err != nil {
			return err
		}
		var completed any
		if st.Terminal() {
			completed = dbTime(at)
		}
		now := s.opts.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET state = ?, detail = ?, completed_at = ?,
			updated_at = ?, last_run_id = ? WHERE request_id = ?`,
			string(st), detail, completed, dbTime(now), runID, requestID); err != nil {
			return err
		}
		return moved(ctx, tx, runID, requestID, cur.status, st, now)
	})
	if err != nil {
		return fmt.Errorf("set status of request %s to %s: %w", requestID, st, err)
	}
	return nil
}

// RecordFailure counts a failed attempt at a request and keeps the error's
// class and message; with f.GiveUp the request becomes failed, with the
// message as its detail.
func (s *Store) RecordFailure(ctx context.Context, runID, requestID string, f batch.Failure) error {
	err := s.update(ctx, runID, requestID, func(tx *sql.Tx, cur current) error {
		if err := batch.CheckOpen(cur.status); err != nil {
			return err
		}
		if f.GiveUp {
			if err := batch.CheckMove(cur.typ, cur.status, batch.StatusFailed); err != nil {
				return err
			}
		}
		now := dbTime(s.opts.Now())
		var err error
		if f.GiveUp {
			_, err = tx.ExecContext(ctx, `UPDATE requests SET attempts = attempts + 1, last_error_class = ?,
				last_error = ?, state = ?, detail = ?, completed_at = ?, updated_at = ?, last_run_id = ?
				WHERE request_id = ?`,
				f.Class, f.Message, string(batch.StatusFailed), f.Message, now, now, runID, requestID)
			if err == nil {
				err = moved(ctx, tx, runID, requestID, cur.status, batch.StatusFailed, s.opts.Now())
			}
		} else {
			_, err = tx.ExecContext(ctx, `UPDATE requests SET attempts = attempts + 1, last_error_class = ?,
				last_error = ?, updated_at = ?, last_run_id = ? WHERE request_id = ?`,
				f.Class, f.Message, now, runID, requestID)
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("record failure of request %s: %w", requestID, err)
	}
	return nil
}

// update runs change on one request in one transaction, after checking
// that the run holds the ledger and the request exists.
func (s *Store) update(ctx context.Context, runID, requestID string, change func(*sql.Tx, current) error) error {
	return s.inTx(ctx, runID, func(tx *sql.Tx) error {
		cur, err := currentOf(ctx, tx, requestID)
		if err != nil {
			return err
		}
		return change(tx, cur)
	})
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

func scanRequest(sc scanner) (RequestRecord, error) {
	var (
		r                                          RequestRecord
		submitted, due, created, updated, complete sql.NullInt64
	)
	if err := sc.Scan(&r.ID, &r.Type, &r.Email, &r.UserID, &submitted, &due,
		&r.Source.File, &r.Source.Row, &r.ManifestSHA, &r.Status, &r.Detail, &r.Attempts,
		&r.LastErrorClass, &r.LastError, &created, &updated, &complete, &r.LastRunID, &r.Seq); err != nil {
		return r, err
	}
	r.SubmittedAt, r.DueAt = goTime(submitted), goTime(due)
	r.CreatedAt, r.UpdatedAt, r.CompletedAt = goTime(created), goTime(updated), goTime(complete)
	return r, nil
}
