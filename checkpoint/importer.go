package checkpoint

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

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
// Rows are queued in buffers of at most importBuffer rows; a full buffer
// is written (into the open transaction) by a goroutine while the caller
// reads the next rows, so at most two buffers are in memory whatever
// ImportBatch is. An error writing one is returned by a later Add, Reject
// or Finish. Only Finish says that every row is in the ledger. An
// Importer is not safe for concurrent use.
type Importer struct {
	s          *Store
	runID      string
	m          ManifestInfo
	manifestID int64

	buf      *pending
	spare    *pending
	inflight chan written // the buffer being written, nil if none
	tx       *importTx    // the open transaction; only the writing goroutine touches it
	res      ImportResult // what committed transactions did
	err      error        // sticky: set by a failed write or by Finish
}

// importBuffer is the most rows an Importer holds in one buffer.
const importBuffer = 10000

// maxImportTxAge bounds how long an import transaction stays open when
// rows arrive slowly, so that a crash loses little.
const maxImportTxAge = 5 * time.Second

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
// ImportBatch rows (or maxImportTxAge) are committed in one transaction;
// rows not yet committed when the process dies are not in the ledger, rows
// of earlier transactions are.
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
	imp.startWrite(ctx, true)
	err := imp.wait()
	imp.s.restoreCache()
	if err != nil {
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
	if imp.tx != nil {
		imp.tx.rollback()
		imp.tx = nil
	}
	imp.s.restoreCache()
	imp.buf.reset()
	if imp.err == nil {
		imp.err = fmt.Errorf("import manifest %s: %w: importer closed", imp.m.Path, ErrClosed)
	}
	return err
}

// Result is what the batches committed so far did.
func (imp *Importer) Result() ImportResult { return imp.res }

func (imp *Importer) maybeFlush(ctx context.Context) error {
	if imp.buf.len() < min(imp.s.opts.ImportBatch, imp.s.opts.importBuffer) {
		return nil
	}
	if err := imp.wait(); err != nil {
		return err
	}
	imp.startWrite(ctx, false)
	return nil
}

// startWrite hands the queued rows to a goroutine that writes them into
// the open transaction (beginning one if need be) and commits it when it
// holds ImportBatch rows, is maxImportTxAge old, or final is set. The
// previous buffer must have been waited for.
func (imp *Importer) startWrite(ctx context.Context, final bool) {
	if imp.inflight != nil {
		panic("checkpoint: import buffer written while another is in flight")
	}
	if imp.buf.len() == 0 && (imp.tx == nil || !final) {
		return
	}
	p := imp.buf
	imp.buf, imp.spare = imp.spare, nil
	done := make(chan written, 1)
	imp.inflight = done
	go func() { done <- imp.write(ctx, p, final) }()
}

// write is startWrite's goroutine: the only code that touches imp.tx while
// a buffer is in flight.
func (imp *Importer) write(ctx context.Context, p *pending, final bool) written {
	w := written{p: p}
	if p.len() > 0 {
		if imp.tx == nil {
			if imp.tx, w.err = imp.s.beginImport(ctx, imp.runID, imp.manifestID); w.err != nil {
				return w
			}
		}
		if _, w.err = imp.tx.write(ctx, p); w.err != nil {
			imp.tx.rollback()
			imp.tx = nil
			return w
		}
	}
	t := imp.tx
	if t == nil || !(final || t.rows >= imp.s.opts.ImportBatch || time.Since(t.began) >= maxImportTxAge) {
		return w
	}
	imp.tx = nil
	if w.err = t.commit(); w.err == nil {
		w.committed = t.pending
	}
	return w
}

// wait waits for the buffer in flight, if any, and counts what committed.
// A failed write is sticky: the Importer is unusable.
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
	imp.res.Add(w.committed)
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
