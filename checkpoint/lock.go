package checkpoint

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// RunInfo describes a run for the runs table.
type RunInfo struct {
	Args        []string // command-line arguments; the caller leaves secrets out
	ToolVersion string
}

// LockedError says which run holds the ledger. It matches ErrLocked.
type LockedError struct {
	Path        string
	RunID       string
	PID         int
	Host        string
	StartedAt   time.Time
	HeartbeatAt time.Time
	Age         time.Duration // since the last heartbeat, when checked
	StaleAfter  time.Duration
}

func (e *LockedError) Error() string {
	return fmt.Sprintf("ledger %s is in use by run %s (pid %d on host %s, started %s, last heartbeat %s ago); "+
		"wait for it to finish, or if that process is gone, run again: its lock is taken over once its heartbeat is %s old",
		e.Path, e.RunID, e.PID, e.Host, e.StartedAt.UTC().Format(time.RFC3339),
		e.Age.Round(time.Second), e.StaleAfter)
}

// Is makes errors.Is(err, ErrLocked) true.
func (e *LockedError) Is(target error) bool { return target == ErrLocked }

// lockHolder is the ledger_lock row.
type lockHolder struct {
	RunID       string
	PID         int
	Host        string
	StartedAt   time.Time
	HeartbeatAt time.Time
}

// BeginRun records a new run and takes the ledger lock for it. When
// another run holds the lock it fails with a *LockedError, unless that
// holder is gone: a process on this host that no longer exists, or a
// heartbeat older than Options.StaleLockAfter. The taken-over run is
// marked "abandoned".
func (s *Store) BeginRun(ctx context.Context, info RunInfo) (string, error) {
	now := s.opts.Now()
	runID, err := newRunID(now)
	if err != nil {
		return "", fmt.Errorf("begin run: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return "", fmt.Errorf("begin run: begin: %w", err)
	}
	defer tx.Rollback()
	holder, err := readLock(ctx, tx)
	if err != nil {
		return "", fmt.Errorf("begin run: %w", err)
	}
	var reason string
	if holder != nil {
		if reason = s.takeoverReason(*holder, now); reason == "" {
			return "", &LockedError{
				Path: s.path, RunID: holder.RunID, PID: holder.PID, Host: holder.Host,
				StartedAt: holder.StartedAt, HeartbeatAt: holder.HeartbeatAt,
				Age: now.Sub(holder.HeartbeatAt), StaleAfter: s.opts.StaleLockAfter,
			}
		}
		if err := abandonRun(ctx, tx, holder.RunID, holder.HeartbeatAt); err != nil {
			return "", fmt.Errorf("begin run: %w", err)
		}
	}
	if err := insertRun(ctx, tx, runID, info, s.pid, s.host, now); err != nil {
		return "", fmt.Errorf("begin run: %w", err)
	}
	if err := writeLock(ctx, tx, runID, s.pid, s.host, now); err != nil {
		return "", fmt.Errorf("begin run: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return "", fmt.Errorf("begin run: commit: %w", err)
	}
	if holder != nil {
		s.log.Warn("took over the ledger lock", "run", runID, "from_run", holder.RunID,
			"from_pid", holder.PID, "from_host", holder.Host, "reason", reason)
	}
	return runID, nil
}

// Heartbeat refreshes the run's lock. It fails with ErrLockLost when
// another run has taken the lock over; the run must then stop.
func (s *Store) Heartbeat(ctx context.Context, runID string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("heartbeat: begin: %w", err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, runID); err != nil {
		return fmt.Errorf("heartbeat: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE ledger_lock SET heartbeat_at = ? WHERE id = 1",
		dbTime(s.opts.Now())); err != nil {
		return fmt.Errorf("heartbeat: update: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("heartbeat: commit: %w", err)
	}
	return nil
}

// KeepAlive calls Heartbeat every interval until ctx is done, then returns
// nil. It returns the first Heartbeat error, ErrLockLost included. Use an
// interval well below Options.StaleLockAfter (a sixth of it, say).
func (s *Store) KeepAlive(ctx context.Context, runID string, every time.Duration) error {
	if every <= 0 {
		return fmt.Errorf("keep alive: interval %v is not positive", every)
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.Heartbeat(ctx, runID); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
}

// EndRun records the run's outcome and end time and releases the lock.
// outcome is the caller's word for how it went ("ok", "rows_failed",
// "interrupted", "fatal").
func (s *Store) EndRun(ctx context.Context, runID, outcome string) error {
	if outcome == "" {
		return errors.New("end run: empty outcome")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("end run: begin: %w", err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, runID); err != nil {
		return fmt.Errorf("end run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "UPDATE runs SET ended_at = ?, outcome = ? WHERE run_id = ?",
		dbTime(s.opts.Now()), outcome, runID); err != nil {
		return fmt.Errorf("end run: record outcome: %w", err)
	}
	if _, err := tx.ExecContext(ctx, "DELETE FROM ledger_lock WHERE id = 1"); err != nil {
		return fmt.Errorf("end run: release lock: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("end run: commit: %w", err)
	}
	return nil
}

// takeoverReason says why holder's lock may be taken over, or "" when the
// holder must be presumed alive.
func (s *Store) takeoverReason(h lockHolder, now time.Time) string {
	if h.Host == s.host && !s.alive(h.PID) {
		return fmt.Sprintf("process %d on this host is gone", h.PID)
	}
	if age := now.Sub(h.HeartbeatAt); age > s.opts.StaleLockAfter {
		return fmt.Sprintf("no heartbeat for %s", age.Round(time.Second))
	}
	return ""
}

func readLock(ctx context.Context, tx *sql.Tx) (*lockHolder, error) {
	var h lockHolder
	var started, beat sql.NullInt64
	err := tx.QueryRowContext(ctx,
		"SELECT run_id, pid, hostname, started_at, heartbeat_at FROM ledger_lock WHERE id = 1").
		Scan(&h.RunID, &h.PID, &h.Host, &started, &beat)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read lock: %w", err)
	}
	h.StartedAt, h.HeartbeatAt = goTime(started), goTime(beat)
	return &h, nil
}

// checkLock fails with ErrLockLost unless runID holds the ledger. Every
// write a run makes checks it in the same transaction, so a run whose
// lock was taken over cannot write after the takeover.
func checkLock(ctx context.Context, tx *sql.Tx, runID string) error {
	h, err := readLock(ctx, tx)
	if err != nil {
		return err
	}
	if h == nil {
		return fmt.Errorf("%w: run %s does not hold the ledger (no run does)", ErrLockLost, runID)
	}
	if h.RunID != runID {
		return fmt.Errorf("%w: run %s does not hold the ledger (run %s, pid %d on host %s, does)",
			ErrLockLost, runID, h.RunID, h.PID, h.Host)
	}
	return nil
}

func insertRun(ctx context.Context, tx *sql.Tx, runID string, info RunInfo, pid int, host string, now time.Time) error {
	args := info.Args
	if args == nil {
		args = []string{}
	}
	b, err := json.Marshal(args)
	if err != nil {
		return fmt.Errorf("encode args: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs (run_id, started_at, args, tool_version, pid, hostname)
		VALUES (?, ?, ?, ?, ?, ?)`, runID, dbTime(now), string(b), info.ToolVersion, pid, host); err != nil {
		return fmt.Errorf("record run: %w", err)
	}
	return nil
}

func writeLock(ctx context.Context, tx *sql.Tx, runID string, pid int, host string, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_lock (id, run_id, pid, hostname, started_at, heartbeat_at)
		VALUES (1, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET run_id = excluded.run_id, pid = excluded.pid,
			hostname = excluded.hostname, started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at`,
		runID, pid, host, dbTime(now), dbTime(now)); err != nil {
		return fmt.Errorf("take lock: %w", err)
	}
	return nil
}

// abandonRun marks a taken-over run; it ended, as far as anyone knows, at
// its last heartbeat.
func abandonRun(ctx context.Context, tx *sql.Tx, runID string, lastSeen time.Time) error {
	if _, err := tx.ExecContext(ctx,
		"UPDATE runs SET outcome = 'abandoned', ended_at = ? WHERE run_id = ? AND outcome IS NULL",
		dbTime(lastSeen), runID); err != nil {
		return fmt.Errorf("mark run %s abandoned: %w", runID, err)
	}
	return nil
}

// newRunID is sortable by start time and unique: 20260102T150405Z-1a2b3c4d.
func newRunID(now time.Time) (string, error) {
	var b [4]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("run id: %w", err)
	}
	return now.UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b[:]), nil
}
