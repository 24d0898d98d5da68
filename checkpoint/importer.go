package checkpoint

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/ctdsr/ctdsr/batch"
)

// ImportResult counts what one import did with a manifest's rows. Its JSON
// form is the "import" object of summary.json.
type ImportResult struct {
	Added     int `json:"added"`             // new requests
	Unchanged int `json:"unchanged"`         // already in the ledger with the same content (a re-read or an edited re-export)
	Merged    int `json:"duplicates_merged"` // repeated, with the same content, a request read from another row of this manifest
	Rejected  int `json:"rejected"`          // rejects given to Importer.Reject
	Conflicts int `json:"conflicts"`         // request ID already in the ledger with different content; stored as rejects
}

// Add adds the counts of d to r.
func (r *ImportResult) Add(d ImportResult) {
	r.Added += d.Added
	r.Unchanged += d.Unchanged
	r.Merged += d.Merged
	r.Rejected += d.Rejected
	r.Conflicts += d.Conflicts
}

// Importer loads one manifest's rows into the ledger, ImportBatch rows per
// transaction. Importing the same manifest again, whole or after a crash
// part-way, adds nothing twice: each manifest row maps to one request, one
// further source of a request, or one reject.
//
// A full batch is written by a goroutine while the caller reads the next
// rows, so at most two batches are in memory; an error writing one is
// returned by a later Add, Reject or Finish. Only Finish says that every
// row is in the ledger. An Importer is not safe for concurrent use.
type Importer struct {
	s          *Store
	runID      string
	m          ManifestInfo
	manifestID int64

	buf      *pending
	spare    *pending
	inflight chan written // the batch being written, nil if none
	res      ImportResult
	err      error // sticky: set by a failed batch or by Finish
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
	return &Importer{s: s, runID: runID, m: m, manifestID: id, buf: &pending{}, spare: &pending{}}, nil
}

// Add queues a validated request read from the manifest. Every
// ImportBatch rows are written in one transaction; rows of a batch not yet
// committed when the process dies are not in the ledger, rows of earlier
// batches are.
func (imp *Importer) Add(ctx context.Context, req batch.Request) error {
	if imp.err != nil {
		return imp.err
	}
	if err := checkRequest(req); err != nil {
		return fmt.Errorf("import manifest %s: row %d: %w", imp.m.Path, req.Source.Row, err)
	}
	h, err := contentHash(req)
	if err != nil {
		return fmt.Errorf("import manifest %s: row %d: %w", imp.m.Path, req.Source.Row, err)
	}
	imp.buf.reqs = append(imp.buf.reqs, req)
	imp.buf.hashes = append(imp.buf.hashes, h)
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
	imp.buf.rejs = append(imp.buf.rejs, rej)
	return imp.maybeFlush(ctx)
}

// Finish writes the queued rows, waits until every batch has committed,
// and marks the manifest loaded with rows, the number of data rows the
// reader read. The Importer is done after it.
func (imp *Importer) Finish(ctx context.Context, rows int) (ImportResult, error) {
	if imp.err != nil {
		return imp.res, imp.err
	}
	if err := imp.wait(); err != nil {
		return imp.res, err
	}
	imp.startBatch(ctx)
	if err := imp.wait(); err != nil {
		return imp.res, err
	}
	if err := imp.markLoaded(ctx, rows); err != nil {
		imp.err = err
		return imp.res, err
	}
	imp.err = fmt.Errorf("import manifest %s: %w: importer finished", imp.m.Path, ErrClosed)
	return imp.res, nil
}

// Close abandons the import: it waits for a batch being written, if any,
// and drops the rows still queued. It returns that batch's error. Close is
// safe after Finish and more than once; the manifest stays not loaded
// unless Finish succeeded.
func (imp *Importer) Close() error {
	err := imp.wait()
	imp.buf.reset()
	if imp.err == nil {
		imp.err = fmt.Errorf("import manifest %s: %w: importer closed", imp.m.Path, ErrClosed)
	}
	return err
}

// Result is what the batches committed so far did.
func (imp *Importer) Result() ImportResult { return imp.res }

func (imp *Importer) maybeFlush(ctx context.Context) error {
	if imp.buf.len() < imp.s.opts.ImportBatch {
		return nil
	}
	if err := imp.wait(); err != nil {
		return err
	}
	imp.startBatch(ctx)
	return nil
}

// startBatch hands the queued rows to a goroutine that writes them in one
// transaction. The previous batch must have been waited for.
func (imp *Importer) startBatch(ctx context.Context) {
	if imp.inflight != nil {
		panic("checkpoint: import batch started while another is in flight")
	}
	if imp.buf.len() == 0 {
		return
	}
	p := imp.buf
	imp.buf, imp.spare = imp.spare, nil
	done := make(chan written, 1)
	imp.inflight = done
	go func() {
		d, err := imp.s.writeBatch(ctx, imp.runID, imp.manifestID, p)
		done <- written{p: p, d: d, err: err}
	}()
}

// wait waits for the batch in flight, if any, and counts it once it has
// committed. A failed batch is sticky: the Importer is unusable.
func (imp *Importer) wait() error {
	if imp.inflight == nil {
		return nil
	}
	w := <-imp.inflight
	imp.inflight = nil
	if w.err != nil {
		imp.err = fmt.Errorf("import manifest %s: %s: %w", imp.m.Path, w.p.rows(), w.err)
		return imp.err
	}
	imp.res.Add(w.d)
	w.p.reset()
	imp.spare = w.p
	return nil
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
