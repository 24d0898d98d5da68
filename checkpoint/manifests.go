package checkpoint

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ManifestInfo identifies a manifest file.
type ManifestInfo struct {
	SHA256 string // hex SHA-256 of the file's bytes: the manifest's identity
	Path   string // as given on the command line
	Format string // "csv", "parquet", "xlsx"
}

// ManifestLoaded reports whether every row of the manifest with this
// SHA-256 was imported before. Such a manifest need not be read again:
// AttachManifest links it to the run instead.
func (s *Store) ManifestLoaded(ctx context.Context, sha string) (bool, error) {
	var loaded bool
	err := s.rdb.QueryRowContext(ctx,
		"SELECT loaded_at IS NOT NULL FROM manifests WHERE sha256 = ?", sha).Scan(&loaded)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("manifest loaded: %w", err)
	}
	return loaded, nil
}

// AttachManifest records that the run uses a manifest the ledger already
// holds, without reading it again, so the run's reports include it.
func (s *Store) AttachManifest(ctx context.Context, runID, sha string) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("attach manifest: begin: %w", err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, runID); err != nil {
		return fmt.Errorf("attach manifest: %w", err)
	}
	var id int64
	err = tx.QueryRowContext(ctx, "SELECT manifest_id FROM manifests WHERE sha256 = ?", sha).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("attach manifest: %w: sha256 %s", ErrUnknownManifest, sha)
	}
	if err != nil {
		return fmt.Errorf("attach manifest: find: %w", err)
	}
	if err := attachManifest(ctx, tx, runID, id, s.opts.Now()); err != nil {
		return fmt.Errorf("attach manifest: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("attach manifest: commit: %w", err)
	}
	return nil
}

func attachManifest(ctx context.Context, tx *sql.Tx, runID string, manifestID int64, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO run_manifests (run_id, manifest_id, attached_at)
		VALUES (?, ?, ?) ON CONFLICT DO NOTHING`, runID, manifestID, dbTime(now)); err != nil {
		return fmt.Errorf("link manifest to run: %w", err)
	}
	return nil
}
