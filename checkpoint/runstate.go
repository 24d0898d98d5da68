package checkpoint

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

var _ batch.Store = (*Store)(nil)

// noDue sorts requests without a due date after every dated one.
const noDue = "9223372036854775807"

// openWorkPage is the keys of the page after the cursor (due ?1, key ?2),
// ?3 at most, in two parts that each seek requests_open: the rest of the
// cursor's due date, then the later ones. (SQLite scans the index from its
// start for the row value (due, key) > (?1, ?2): the open requests before
// the cursor, all of them in a run that leaves deletions open, on every
// page.)
const openWorkPage = `WITH page(req_id) AS (
	SELECT * FROM (SELECT req_id FROM requests
		WHERE completed_at IS NULL AND coalesce(due_at, ` + noDue + `) = ?1 AND req_id > ?2
		ORDER BY req_id LIMIT ?3)
	UNION ALL
	SELECT * FROM (SELECT req_id FROM requests
		WHERE completed_at IS NULL AND coalesce(due_at, ` + noDue + `) > ?1
		ORDER BY coalesce(due_at, ` + noDue + `), req_id LIMIT ?3))
`

// openWorkPageOf is openWorkPage for the requests of one type (?4). It
// walks the same index, reading each entry's row for its type: a stream
// of one type skips the other type's requests once over the whole run, as
// its cursor only moves forward.
const openWorkPageOf = `WITH page(req_id) AS (
	SELECT * FROM (SELECT req_id FROM requests
		WHERE completed_at IS NULL AND coalesce(due_at, ` + noDue + `) = ?1 AND req_id > ?2 AND request_type = ?4
		ORDER BY req_id LIMIT ?3)
	UNION ALL
	SELECT * FROM (SELECT req_id FROM requests
		WHERE completed_at IS NULL AND coalesce(due_at, ` + noDue + `) > ?1 AND request_type = ?4
		ORDER BY coalesce(due_at, ` + noDue + `), req_id LIMIT ?3))
`

// OpenWork returns up to limit open requests of type kind (every type when
// kind is "") after the cursor, by due date (none last) then load order
// (req_id), through the partial index of open requests (requests_open),
// with the event names earlier runs exported and the deletion plan and
// verification progress they recorded. The run reads the ledger a page at
// a time, so its memory does not grow with it.
func (s *Store) OpenWork(ctx context.Context, kind batch.RequestType, after batch.WorkCursor, limit int) ([]batch.Work, batch.WorkCursor, error) {
	due := int64(math.MinInt64)
	switch {
	case after.Past:
		due = math.MaxInt64
	case !after.DueAt.IsZero():
		due = dbTime(after.DueAt)
	}
	page, args := openWorkPage, []any{due, after.Seq, limit}
	if kind != "" {
		page, args = openWorkPageOf, append(args, string(kind))
	}
	rows, err := s.rdb.QueryContext(ctx, page+selectRequest+` WHERE r.req_id IN page
		ORDER BY coalesce(r.due_at, `+noDue+`), r.req_id LIMIT ?3`, args...)
	if err != nil {
		return nil, after, fmt.Errorf("read open requests: %w", err)
	}
	var work []batch.Work
	for rows.Next() {
		r, err := scanRequest(rows)
		if err != nil {
			rows.Close()
			return nil, after, fmt.Errorf("read open requests: %w", err)
		}
		work = append(work, batch.Work{Request: r.Request, Seq: r.Seq, Status: r.Status, Attempts: r.Attempts})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, after, fmt.Errorf("read open requests: %w", err)
	}
	if len(work) == 0 {
		return nil, after, nil
	}
	index := make(map[string]*batch.Work, len(work))
	ids := make([]string, len(work))
	for i := range work {
		index[work[i].ID] = &work[i]
		ids[i] = work[i].ID
	}
	idList, err := json.Marshal(ids)
	if err != nil {
		return nil, after, err
	}
	if err := s.openEventNames(ctx, string(idList), index); err != nil {
		return nil, after, fmt.Errorf("read exported event names: %w", err)
	}
	if err := s.openDeletions(ctx, string(idList), index); err != nil {
		return nil, after, fmt.Errorf("read deletion plans: %w", err)
	}
	return work, batch.CursorOf(work[len(work)-1]), nil
}

// CountOpen counts the open requests of type kind, or of every type when
// kind is "" (from requests_open alone; a type reads each open row).
func (s *Store) CountOpen(ctx context.Context, kind batch.RequestType) (int, error) {
	q, args := "SELECT count(*) FROM requests WHERE completed_at IS NULL", []any(nil)
	if kind != "" {
		q, args = q+" AND request_type = ?", []any{string(kind)}
	}
	var n int
	if err := s.rdb.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count open requests: %w", err)
	}
	return n, nil
}

func (s *Store) openEventNames(ctx context.Context, ids string, index map[string]*batch.Work) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT request_id, event_name, exported FROM access_event_names
		WHERE request_id IN (SELECT value FROM json_each(?))`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, name string
		var n int64
		if err := rows.Scan(&id, &name, &n); err != nil {
			return err
		}
		if w := index[id]; w != nil {
			if w.DoneEventNames == nil {
				w.DoneEventNames = map[string]int64{}
			}
			w.DoneEventNames[name] = n
		}
	}
	return rows.Err()
}

func (s *Store) openDeletions(ctx context.Context, ids string, index map[string]*batch.Work) error {
	rows, err := s.rdb.QueryContext(ctx, `SELECT d.request_id, d.object_ids, d.identities, d.profiles, d.notes,
		d.delete_requested_at, d.checks, d.last_checked_at, d.next_check_at
		FROM deletions d WHERE d.request_id IN (SELECT value FROM json_each(?))`, ids)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var (
			id, objects, idents      string
			plan                     batch.DeletionPlan
			checks                   int
			requested, last, nextChk sql.NullInt64
		)
		if err := rows.Scan(&id, &objects, &idents, &plan.Profiles, &plan.Notes, &requested, &checks, &last, &nextChk); err != nil {
			return err
		}
		if err := json.Unmarshal([]byte(objects), &plan.ObjectIDs); err != nil {
			return fmt.Errorf("request %s: object ids: %w", id, err)
		}
		if err := json.Unmarshal([]byte(idents), &plan.Identities); err != nil {
			return fmt.Errorf("request %s: identities: %w", id, err)
		}
		if w := index[id]; w != nil {
			w.Plan = &plan
			w.DeleteRequestedAt, w.Checks = goTime(requested), checks
			w.LastCheckedAt, w.NextCheckAt = goTime(last), goTime(nextChk)
		}
	}
	return rows.Err()
}

// SaveProfiles replaces the access bundle's profiles of a request.
func (s *Store) SaveProfiles(ctx context.Context, runID, requestID string, profiles []batch.FoundProfile) error {
	err := s.update(ctx, runID, requestID, func(tx *sql.Tx, cur current) error {
		if err := cur.writable(batch.Access); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, "DELETE FROM access_profiles WHERE request_id = ?", requestID); err != nil {
			return err
		}
		for i, p := range profiles {
			ids, err := json.Marshal(nonNil(p.ObjectIDs))
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO access_profiles (request_id, ordinal, matched_by,
				object_ids, identity, email, name, phone, profile_data_json, event_summary_json,
				platform_info_json, retrieved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				requestID, i, string(p.MatchedBy), string(ids), p.Identity, p.Email, p.Name, p.Phone,
				p.ProfileDataJSON, p.EventSummaryJSON, p.PlatformInfoJSON, dbTime(p.RetrievedAt)); err != nil {
				return err
			}
		}
		return touch(ctx, tx, runID, requestID, s.opts.Now())
	})
	if err != nil {
		return fmt.Errorf("save profiles of request %s: %w", requestID, err)
	}
	return nil
}

// PlanDeletion records the ids a deletion sends, before they are sent. A
// later plan replaces it whole: the caller passes every id, old and new,
// when a verification widens the deletion.
func (s *Store) PlanDeletion(ctx context.Context, runID, requestID string, plan batch.DeletionPlan) error {
	err := s.update(ctx, runID, requestID, func(tx *sql.Tx, cur current) error {
		if err := cur.writable(batch.Deletion); err != nil {
			return err
		}
		objects, err := json.Marshal(nonNil(plan.ObjectIDs))
		if err != nil {
			return err
		}
		idents, err := json.Marshal(nonNil(plan.Identities))
		if err != nil {
			return err
		}
		now := s.opts.Now()
		if _, err := tx.ExecContext(ctx, `INSERT INTO deletions (request_id, object_ids, identities, profiles, notes, planned_at)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (request_id) DO UPDATE SET object_ids = excluded.object_ids,
			identities = excluded.identities, profiles = excluded.profiles, notes = excluded.notes`,
			requestID, string(objects), string(idents), plan.Profiles, plan.Notes, dbTime(now)); err != nil {
			return err
		}
		return touch(ctx, tx, runID, requestID, now)
	})
	if err != nil {
		return fmt.Errorf("plan deletion of request %s: %w", requestID, err)
	}
	return nil
}

// MarkDeleteSubmitted records that CleverTap accepted every id of these
// requests at time at; their first verification is due at next.
func (s *Store) MarkDeleteSubmitted(ctx context.Context, runID string, requestIDs []string, at, next time.Time) error {
	err := s.inTx(ctx, runID, func(tx *sql.Tx) error {
		for _, id := range requestIDs {
			cur, err := currentOf(ctx, tx, id)
			if err != nil {
				return fmt.Errorf("request %s: %w", id, err)
			}
			if err := cur.ofType(batch.Deletion); err != nil {
				return fmt.Errorf("request %s: %w", id, err)
			}
			if err := batch.CheckMove(cur.typ, cur.status, batch.StatusDeleteSubmitted); err != nil {
				return fmt.Errorf("request %s: %w", id, err)
			}
			res, err := tx.ExecContext(ctx, `UPDATE deletions SET delete_requested_at = ?, next_check_at = ?
				WHERE request_id = ?`, dbTime(at), dbTime(next), id)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n != 1 {
				return fmt.Errorf("request %s has no deletion plan", id)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE requests SET state = ?, detail = ?, attempts = 0,
				last_error_class = '', last_error = '' WHERE request_id = ?`,
				string(batch.StatusDeleteSubmitted), "delete accepted by CleverTap; verifying", id); err != nil {
				return err
			}
			if err := moved(ctx, tx, runID, id, cur.status, batch.StatusDeleteSubmitted, s.opts.Now()); err != nil {
				return err
			}
			if err := touch(ctx, tx, runID, id, s.opts.Now()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("mark deletes submitted: %w", err)
	}
	return nil
}

// RecordCheck records one verification search and, when it settled the
// request, its outcome. Only a deletion whose delete CleverTap accepted
// and that is not settled yet can be checked.
func (s *Store) RecordCheck(ctx context.Context, runID, requestID string, c batch.Check) error {
	err := s.update(ctx, runID, requestID, func(tx *sql.Tx, cur current) error {
		if err := cur.ofType(batch.Deletion); err != nil {
			return err
		}
		if cur.status != batch.StatusDeleteSubmitted {
			return fmt.Errorf("%w: the request is %s, not a delete awaiting verification", batch.ErrTransition, cur.status)
		}
		if err := batch.CheckMove(cur.typ, cur.status, c.Status); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE deletions SET checks = checks + 1, last_checked_at = ?,
			next_check_at = ? WHERE request_id = ? AND delete_requested_at IS NOT NULL`,
			dbTime(c.At), nullTime(c.Next), requestID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n != 1 {
			return cmp.Or(err, fmt.Errorf("%w: the request has no accepted delete to verify", batch.ErrTransition))
		}
		var completed any
		if c.Status.Terminal() {
			completed = dbTime(c.At)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE requests SET state = ?, detail = ?, completed_at = ?
			WHERE request_id = ?`, string(c.Status), c.Detail, completed, requestID); err != nil {
			return err
		}
		if err := moved(ctx, tx, runID, requestID, cur.status, c.Status, s.opts.Now()); err != nil {
			return err
		}
		return touch(ctx, tx, runID, requestID, s.opts.Now())
	})
	if err != nil {
		return fmt.Errorf("record verification of request %s: %w", requestID, err)
	}
	return nil
}

// inTx runs fn in one write transaction after checking the run holds the
// ledger.
func (s *Store) inTx(ctx context.Context, runID string, fn func(*sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, runID); err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// current is a request's type and status, read inside a transaction
// before changing it.
type current struct {
	typ    batch.RequestType
	status batch.Status
}

// currentOf returns the type and status of request id, or an error
// matching ErrUnknownRequest.
func currentOf(ctx context.Context, tx *sql.Tx, id string) (current, error) {
	var c current
	err := tx.QueryRowContext(ctx, "SELECT request_type, state FROM requests WHERE request_id = ?", id).Scan(&c.typ, &c.status)
	if errors.Is(err, sql.ErrNoRows) {
		return c, ErrUnknownRequest
	}
	if err != nil {
		return c, fmt.Errorf("read request: %w", err)
	}
	return c, nil
}

// ofType fails with batch.ErrWrongType unless the request is of type t.
func (c current) ofType(t batch.RequestType) error {
	if c.typ != t {
		return fmt.Errorf("%w: it is a %s request, not %s", batch.ErrWrongType, c.typ, t)
	}
	return nil
}

// writable checks that the request is of type t and still open, before a
// write of its run state (profiles, events, a deletion plan).
func (c current) writable(t batch.RequestType) error {
	if err := c.ofType(t); err != nil {
		return err
	}
	return batch.CheckOpen(c.status)
}

// touch records that run runID changed a request, which puts it in the
// run's reports.
func touch(ctx context.Context, tx *sql.Tx, runID, requestID string, now time.Time) error {
	_, err := tx.ExecContext(ctx, "UPDATE requests SET last_run_id = ?, updated_at = ? WHERE request_id = ?",
		runID, dbTime(now), requestID)
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
