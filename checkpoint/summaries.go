package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// RecordSummary records the SHA-256 of the summary.json run runID wrote.
// The run must hold the ledger.
func (s *Store) RecordSummary(ctx context.Context, runID, sha string) error {
	err := s.inTx(ctx, runID, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, "UPDATE runs SET summary_sha256 = ? WHERE run_id = ?", sha, runID)
		return err
	})
	if err != nil {
		return fmt.Errorf("record summary of run %s: %w", runID, err)
	}
	return nil
}

// PreviousSummary returns the run that started last before run runID and
// recorded a summary, and that summary's SHA-256; empty strings when none.
func (s *Store) PreviousSummary(ctx context.Context, runID string) (prevRun, sha string, err error) {
	err = s.rdb.QueryRowContext(ctx, `SELECT run_id, summary_sha256 FROM runs
		WHERE summary_sha256 IS NOT NULL AND run_id <> ?1
			AND started_at <= coalesce((SELECT started_at FROM runs WHERE run_id = ?1), started_at)
		ORDER BY started_at DESC, run_id DESC LIMIT 1`, runID).Scan(&prevRun, &sha)
	if errors.Is(err, sql.ErrNoRows) {
		return "", "", nil
	}
	if err != nil {
		return "", "", fmt.Errorf("previous summary of run %s: %w", runID, err)
	}
	return prevRun, sha, nil
}

// SummaryOf returns the summary SHA-256 run runID recorded; "" when none.
func (s *Store) SummaryOf(ctx context.Context, runID string) (string, error) {
	var sha sql.NullString
	err := s.rdb.QueryRowContext(ctx, "SELECT summary_sha256 FROM runs WHERE run_id = ?", runID).Scan(&sha)
	if errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("summary of run %s: %w", runID, ErrUnknownRun)
	}
	if err != nil {
		return "", fmt.Errorf("summary of run %s: %w", runID, err)
	}
	return sha.String, nil
}
