package checkpoint

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// pending is a batch of rows queued for one transaction.
type pending struct {
	reqs   []batch.Request
	hashes [][]byte // reqs' content hashes
	rejs   []batch.Reject
}

func (p *pending) len() int { return len(p.reqs) + len(p.rejs) }

// sortByID orders the batch by request id (stably: of two rows with one id
// the earlier stays first), so its inserts walk the request-id index in
// order instead of jumping about it, while the table still grows at its
// end: a new request's key is the next free one, in this order. (Keys in
// the order the rows were read would scatter the table's inserts over the
// buffer's range: a UUID-keyed million then loads 40 % slower.)
func (p *pending) sortByID() {
	idx := make([]int, len(p.reqs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int { return strings.Compare(p.reqs[a].ID, p.reqs[b].ID) })
	reqs := make([]batch.Request, len(p.reqs))
	hashes := make([][]byte, len(p.hashes))
	for i, j := range idx {
		reqs[i], hashes[i] = p.reqs[j], p.hashes[j]
	}
	copy(p.reqs, reqs)
	copy(p.hashes, hashes)
}

func (p *pending) reset() {
	p.reqs, p.hashes, p.rejs = p.reqs[:0], p.hashes[:0], p.rejs[:0]
}

// rows names the batch's manifest rows for an error.
func (p *pending) rows() string {
	lo, hi := -1, -1
	for _, r := range p.reqs {
		lo, hi = minRow(lo, r.Source.Row), max(hi, r.Source.Row)
	}
	for _, r := range p.rejs {
		lo, hi = minRow(lo, r.SourceRow), max(hi, r.SourceRow)
	}
	return fmt.Sprintf("rows %d-%d", lo, hi)
}

func minRow(a, b int) int {
	if a < 0 {
		return b
	}
	return min(a, b)
}

// written is the outcome of writing one buffer.
type written struct {
	p         *pending
	committed ImportResult // what the transaction it committed did, if it committed one
	err       error
}

// importTx is an import transaction. It outlives one buffer of rows:
// with random request IDs each commit rewrites most of the index pages
// its rows touched, so fewer, larger transactions load several times
// faster, while the rows held in memory stay one buffer.
type importTx struct {
	tx      *sql.Tx
	w       *importWriter
	rows    int          // rows written in it
	began   time.Time    // when it began
	pending ImportResult // what its rows did, counted once it commits
}

// beginImport begins an import transaction for the manifest.
func (s *Store) beginImport(ctx context.Context, runID string, manifestID int64) (*importTx, error) {
	shared, err := s.prepared(ctx, importQueries)
	if err != nil {
		return nil, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("begin: %w", err)
	}
	if err := checkLock(ctx, tx, runID); err != nil {
		tx.Rollback()
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = "+importCache); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("import cache: %w", err)
	}
	// The driver watches a cancellable context with a goroutine per
	// statement, which costs more than the insert itself; the rows are
	// written under a context that cannot be cancelled, checking ctx
	// between chunks instead.
	w, err := prepareImport(context.WithoutCancel(ctx), shared, tx, manifestID, runID, dbTime(s.opts.Now()))
	if err != nil {
		tx.Rollback()
		return nil, err
	}
	return &importTx{tx: tx, w: w, began: time.Now()}, nil
}

// write writes p's rows in the transaction. It touches no Importer state,
// so it can run beside the caller.
func (t *importTx) write(ctx context.Context, p *pending) (ImportResult, error) {
	var d ImportResult
	rowCtx := context.WithoutCancel(ctx)
	p.sortByID()
	if err := t.w.requests(ctx, rowCtx, p.reqs, p.hashes, &d); err != nil {
		return d, err
	}
	for _, r := range p.rejs {
		if err := ctx.Err(); err != nil {
			return d, err
		}
		if err := t.w.reject(rowCtx, r); err != nil {
			return d, fmt.Errorf("row %d: %w", r.SourceRow, err)
		}
		d.Rejected++
	}
	t.rows += p.len()
	t.pending.Add(d)
	return d, nil
}

// restoreCache gives the writer back its usual page cache after an import
// raised it. A failure leaves the larger cache, which is harmless.
func (s *Store) restoreCache() {
	s.db.Exec("PRAGMA cache_size = " + writerCache)
}

func (t *importTx) commit() error {
	t.w.close()
	if err := t.tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func (t *importTx) rollback() {
	t.w.close()
	t.tx.Rollback()
}
