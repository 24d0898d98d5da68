package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// DefaultDueWithin is how close a due date must be for Counts to call an
// open request "due soon".
const DefaultDueWithin = 7 * 24 * time.Hour

// Counts summarises a ledger for `ctdsr status`.
type Counts struct {
	Requests int
	ByStatus []StatusCount // sorted by type, then status

	Open    int // not in a terminal status (an accepted delete is open until verified)
	Overdue int // open and past its due date
	DueSoon int // open and due within the window given to Counts
	Late    int // completed after its due date, or open past it

	// OldestOpen is the open request submitted first (by submission time,
	// else the time the ledger learnt of it); zero when none is open.
	OldestOpenID string
	OldestOpenAt time.Time

	Manifests int // manifests fully loaded
	Rejects   int // rejected rows not handed in again since as valid requests
	Runs      int
	LastRun   *RunRecord  // nil before the first run
	Lock      *LockHolder // the run holding the ledger now, if any
}

// StatusCount is the number of requests of one type in one status.
type StatusCount struct {
	Type   batch.RequestType
	Status batch.Status
	N      int
}

// RunRecord is one row of the runs table.
type RunRecord struct {
	RunID       string
	StartedAt   time.Time
	EndedAt     time.Time // zero while running or if killed
	ToolVersion string
	Outcome     string // "" while running or if killed; "abandoned" once taken over
}

// LockHolder is the run that holds the ledger.
type LockHolder struct {
	RunID       string
	PID         int
	Host        string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// Counts reads the summary in one consistent snapshot. dueWithin <= 0
// means DefaultDueWithin.
func (s *Store) Counts(ctx context.Context, dueWithin time.Duration) (Counts, error) {
	if dueWithin <= 0 {
		dueWithin = DefaultDueWithin
	}
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return Counts{}, fmt.Errorf("counts: begin: %w", err)
	}
	defer tx.Rollback()
	now := s.opts.Now()
	var c Counts
	for _, step := range []struct {
		name string
		fn   func(context.Context, *sql.Tx, *Counts) error
	}{
		{"by status", countByStatus},
		{"open", func(ctx context.Context, tx *sql.Tx, c *Counts) error {
			return countOpen(ctx, tx, c, now, now.Add(dueWithin))
		}},
		{"oldest open", oldestOpen},
		{"totals", countTotals},
		{"last run", lastRun},
		{"lock", func(ctx context.Context, tx *sql.Tx, c *Counts) error {
			h, err := readLock(ctx, tx)
			if h != nil {
				c.Lock = &LockHolder{RunID: h.RunID, PID: h.PID, Host: h.Host,
					StartedAt: h.StartedAt, HeartbeatAt: h.HeartbeatAt}
			}
			return err
		}},
	} {
		if err := step.fn(ctx, tx, &c); err != nil {
			return Counts{}, fmt.Errorf("counts: %s: %w", step.name, err)
		}
	}
	return c, nil
}

func countByStatus(ctx context.Context, tx *sql.Tx, c *Counts) error {
	rows, err := tx.QueryContext(ctx, `SELECT request_type, state, count(*) FROM requests
		GROUP BY request_type, state ORDER BY request_type, state`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var sc StatusCount
		if err := rows.Scan(&sc.Type, &sc.Status, &sc.N); err != nil {
			return err
		}
		c.ByStatus = append(c.ByStatus, sc)
		c.Requests += sc.N
	}
	return rows.Err()
}

// countOpenSQL counts the open requests, those overdue at ?1 and those
// due before ?2, from the index of open requests alone (requests_open is
// keyed by the due date, noDue for none).
const countOpenSQL = `SELECT count(*),
	coalesce(sum(coalesce(due_at, ` + noDue + `) < ?1), 0),
	coalesce(sum(coalesce(due_at, ` + noDue + `) >= ?1 AND coalesce(due_at, ` + noDue + `) < ?2), 0)
	FROM requests WHERE completed_at IS NULL`

func countOpen(ctx context.Context, tx *sql.Tx, c *Counts, now, soon time.Time) error {
	if err := tx.QueryRowContext(ctx, countOpenSQL, dbTime(now), dbTime(soon)).
		Scan(&c.Open, &c.Overdue, &c.DueSoon); err != nil {
		return err
	}
	// Late: the overdue open ones, and those closed after their due date.
	var closedLate int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM requests
		WHERE completed_at IS NOT NULL AND due_at IS NOT NULL AND completed_at > due_at`).Scan(&closedLate); err != nil {
		return err
	}
	c.Late = c.Overdue + closedLate
	return nil
}

func oldestOpen(ctx context.Context, tx *sql.Tx, c *Counts) error {
	var at sql.NullInt64
	err := tx.QueryRowContext(ctx, `SELECT request_id, coalesce(submitted_at, created_at) AS t
		FROM requests WHERE completed_at IS NULL ORDER BY t, request_id LIMIT 1`).
		Scan(&c.OldestOpenID, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	c.OldestOpenAt = goTime(at)
	return nil
}

func countTotals(ctx context.Context, tx *sql.Tx, c *Counts) error {
	return tx.QueryRowContext(ctx, `SELECT
		(SELECT count(*) FROM manifests WHERE loaded_at IS NOT NULL),
		(SELECT count(*) FROM rejects j WHERE `+rejectCurrent+`),
		(SELECT count(*) FROM runs)`).Scan(&c.Manifests, &c.Rejects, &c.Runs)
}

func lastRun(ctx context.Context, tx *sql.Tx, c *Counts) error {
	var r RunRecord
	var started, ended sql.NullInt64
	var outcome sql.NullString
	err := tx.QueryRowContext(ctx, `SELECT run_id, started_at, ended_at, tool_version, outcome
		FROM runs ORDER BY started_at DESC, run_id DESC LIMIT 1`).
		Scan(&r.RunID, &started, &ended, &r.ToolVersion, &outcome)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	r.Outcome = outcome.String
	r.StartedAt, r.EndedAt = goTime(started), goTime(ended)
	c.LastRun = &r
	return nil
}

// RunCounts is what one run did, for its summary and exit code: the
// requests it touched (changed, or read in its manifests) by type and
// status, and the rejected rows of its manifests still current.
type RunCounts struct {
	ByStatus []StatusCount
	Rejects  int
}

// RunCounts reads what run runID did, in one consistent snapshot.
func (s *Store) RunCounts(ctx context.Context, runID string) (RunCounts, error) {
	var rc RunCounts
	tx, err := s.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return rc, fmt.Errorf("run counts: begin: %w", err)
	}
	defer tx.Rollback()
	rows, err := tx.QueryContext(ctx, `WITH touched(req_id) AS (
			SELECT req_id FROM requests WHERE last_run_id = ?1
			UNION SELECT rr.req_id FROM request_rows rr JOIN run_manifests rm ON rm.manifest_id = rr.manifest_id
				WHERE rm.run_id = ?1)
		SELECT r.request_type, r.state, count(*) FROM touched JOIN requests r ON r.req_id = touched.req_id
		GROUP BY r.request_type, r.state ORDER BY r.request_type, r.state`, runID)
	if err != nil {
		return rc, fmt.Errorf("run counts: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var sc StatusCount
		if err := rows.Scan(&sc.Type, &sc.Status, &sc.N); err != nil {
			return rc, fmt.Errorf("run counts: %w", err)
		}
		rc.ByStatus = append(rc.ByStatus, sc)
	}
	if err := rows.Err(); err != nil {
		return rc, fmt.Errorf("run counts: %w", err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM rejects j
		WHERE j.manifest_id IN (SELECT manifest_id FROM run_manifests WHERE run_id = ?) AND `+rejectCurrent, runID).
		Scan(&rc.Rejects); err != nil {
		return rc, fmt.Errorf("run counts: rejects: %w", err)
	}
	return rc, nil
}
