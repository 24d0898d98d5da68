package checkpoint

import (
	"context"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// ManifestInfo identifies a manifest file.
type ManifestInfo struct {
	SHA256 string // hex SHA-256 of the file's bytes: the manifest's identity
	Path   string // as given on the command line
	Format string // "csv", "parquet", "xlsx"
}

// ImportResult counts what one import did with a manifest's rows.
type ImportResult struct {
	Added     int // new requests
	Unchanged int // already in the ledger with the same content (a re-read or an edited re-export)
	Merged    int // repeated, with the same content, a request read from another row of this manifest
	Rejected  int // rejects given to Importer.Reject
	Conflicts int // request ID already in the ledger with different content; stored as rejects
}

func (r *ImportResult) add(d ImportResult) {
	r.Added += d.Added
	r.Unchanged += d.Unchanged
	r.Merged += d.Merged
	r.Rejected += d.Rejected
	r.Conflicts += d.Conflicts
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

// Importer loads one manifest's rows into the ledger, ImportBatch rows per
// transaction. Importing the same manifest again, whole or after a crash
// part-way, adds nothing twice: each manifest row maps to one request
// source or one reject. An Importer is not safe for concurrent use.
type Importer struct {
	s          *Store
	runID      string
	m          ManifestInfo
	manifestID int64

	reqs []batch.Request
	rejs []batch.Reject
	res  ImportResult
	err  error // sticky: set by a failed flush or by Finish
}

// NewImporter registers the manifest (if new) as read by the run and
// returns an Importer for its rows.
func (s *Store) NewImporter(ctx context.Context, runID string, m ManifestInfo) (*Importer, error) {
	if b, err := hex.DecodeString(m.SHA256); err != nil || len(b) != 32 {
		return nil, fmt.Errorf("import manifest %s: %q is not a hex SHA-256", m.Path, m.SHA256)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("import manifest %s: begin: %w", m.Path, err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, runID); err != nil {
		return nil, fmt.Errorf("import manifest %s: %w", m.Path, err)
	}
	now := s.opts.Now()
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO manifests (sha256, path, format, first_run_id, created_at)
		VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (sha256) DO UPDATE SET sha256 = excluded.sha256
		RETURNING manifest_id`, m.SHA256, m.Path, m.Format, runID, dbTime(now)).Scan(&id); err != nil {
		return nil, fmt.Errorf("import manifest %s: register: %w", m.Path, err)
	}
	if err := attachManifest(ctx, tx, runID, id, now); err != nil {
		return nil, fmt.Errorf("import manifest %s: %w", m.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("import manifest %s: commit: %w", m.Path, err)
	}
	return &Importer{s: s, runID: runID, m: m, manifestID: id,
		reqs: make([]batch.Request, 0, s.opts.ImportBatch)}, nil
}

// Add queues a validated request read from the manifest; every ImportBatch
// rows are written in one transaction. Rows still queued when the process
// dies are not in the ledger; rows of earlier batches are.
func (imp *Importer) Add(ctx context.Context, req batch.Request) error {
	if imp.err != nil {
		return imp.err
	}
	if err := checkRequest(req); err != nil {
		return fmt.Errorf("import manifest %s: row %d: %w", imp.m.Path, req.Source.Row, err)
	}
	imp.reqs = append(imp.reqs, req)
	return imp.maybeFlush(ctx)
}

// Reject queues a manifest row (or, with SourceRow 0, the whole file) that
// did not become a request. The same reject stored twice is kept once.
func (imp *Importer) Reject(ctx context.Context, rej batch.Reject) error {
	if imp.err != nil {
		return imp.err
	}
	if rej.Reason == "" {
		return fmt.Errorf("import manifest %s: row %d: reject without a reason", imp.m.Path, rej.SourceRow)
	}
	imp.rejs = append(imp.rejs, rej)
	return imp.maybeFlush(ctx)
}

// Finish writes the queued rows and marks the manifest loaded with rows,
// the number of data rows the reader read. The Importer is done after it.
func (imp *Importer) Finish(ctx context.Context, rows int) (ImportResult, error) {
	if imp.err != nil {
		return imp.res, imp.err
	}
	if err := imp.flush(ctx); err != nil {
		return imp.res, err
	}
	if err := imp.markLoaded(ctx, rows); err != nil {
		imp.err = err
		return imp.res, err
	}
	imp.err = fmt.Errorf("import manifest %s: %w: importer finished", imp.m.Path, ErrClosed)
	return imp.res, nil
}

// Result is what the batches committed so far did.
func (imp *Importer) Result() ImportResult { return imp.res }

func (imp *Importer) maybeFlush(ctx context.Context) error {
	if len(imp.reqs)+len(imp.rejs) < imp.s.opts.ImportBatch {
		return nil
	}
	return imp.flush(ctx)
}

// flush writes the queued rows in one transaction and counts them only
// once it committed. A failed flush is sticky: the Importer is unusable.
func (imp *Importer) flush(ctx context.Context) error {
	if len(imp.reqs) == 0 && len(imp.rejs) == 0 {
		return nil
	}
	d, err := imp.writeBatch(ctx)
	if err != nil {
		imp.err = fmt.Errorf("import manifest %s: rows %d-%d: %w", imp.m.Path, imp.firstRow(), imp.lastRow(), err)
		return imp.err
	}
	imp.res.add(d)
	imp.reqs, imp.rejs = imp.reqs[:0], imp.rejs[:0]
	return nil
}

func (imp *Importer) writeBatch(ctx context.Context) (ImportResult, error) {
	var d ImportResult
	tx, err := imp.s.db.BeginTx(ctx, nil)
	if err != nil {
		return d, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, imp.runID); err != nil {
		return d, err
	}
	// The driver watches a cancellable context with a goroutine per
	// statement, which costs more than the insert itself; the rows are
	// written under a context that cannot be cancelled, checking ctx
	// between rows instead.
	rowCtx := context.WithoutCancel(ctx)
	w, err := prepareImport(rowCtx, imp.s, tx, imp.manifestID, imp.runID, dbTime(imp.s.opts.Now()))
	if err != nil {
		return d, err
	}
	defer w.close()
	if err := w.requests(ctx, rowCtx, imp.reqs, &d); err != nil {
		return d, err
	}
	for _, r := range imp.rejs {
		if err := ctx.Err(); err != nil {
			return d, err
		}
		if err := w.reject(rowCtx, r); err != nil {
			return d, fmt.Errorf("row %d: %w", r.SourceRow, err)
		}
		d.Rejected++
	}
	if err := tx.Commit(); err != nil {
		return d, fmt.Errorf("commit: %w", err)
	}
	return d, nil
}

func (imp *Importer) markLoaded(ctx context.Context, rows int) error {
	tx, err := imp.s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("import manifest %s: mark loaded: begin: %w", imp.m.Path, err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, imp.runID); err != nil {
		return fmt.Errorf("import manifest %s: mark loaded: %w", imp.m.Path, err)
	}
	if _, err := tx.ExecContext(ctx,
		"UPDATE manifests SET rows = ?, loaded_at = coalesce(loaded_at, ?) WHERE manifest_id = ?",
		rows, dbTime(imp.s.opts.Now()), imp.manifestID); err != nil {
		return fmt.Errorf("import manifest %s: mark loaded: %w", imp.m.Path, err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("import manifest %s: mark loaded: commit: %w", imp.m.Path, err)
	}
	return nil
}

func (imp *Importer) firstRow() int {
	if len(imp.reqs) > 0 {
		return imp.reqs[0].Source.Row
	}
	return imp.rejs[0].SourceRow
}

func (imp *Importer) lastRow() int {
	if len(imp.rejs) > 0 {
		return imp.rejs[len(imp.rejs)-1].SourceRow
	}
	return imp.reqs[len(imp.reqs)-1].Source.Row
}

// checkRequest refuses what a manifest reader must never produce.
func checkRequest(r batch.Request) error {
	switch {
	case r.ID == "":
		return errors.New("request without an id")
	case !r.Type.Valid():
		return fmt.Errorf("request %s: unknown type %q", r.ID, r.Type)
	case r.Email == "" && r.UserID == "":
		return fmt.Errorf("request %s: neither email nor user id", r.ID)
	case r.Source.Row <= 0:
		return fmt.Errorf("request %s: no source row", r.ID)
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
