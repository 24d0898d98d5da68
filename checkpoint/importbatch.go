package checkpoint

import (
	"context"
	"fmt"
	"slices"
	"strings"

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
// order instead of jumping about it: UUID-like ids then load about as fast
// as sequential ones.
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

// written is the outcome of writing one batch.
type written struct {
	p   *pending
	d   ImportResult
	err error
}

// writeBatch writes p in one transaction. It touches no Importer state, so
// it can run beside the caller.
func (s *Store) writeBatch(ctx context.Context, runID string, manifestID int64, p *pending) (ImportResult, error) {
	var d ImportResult
	shared, err := s.prepared(ctx, importQueries)
	if err != nil {
		return d, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return d, fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback()
	if err := checkLock(ctx, tx, runID); err != nil {
		return d, err
	}
	// The driver watches a cancellable context with a goroutine per
	// statement, which costs more than the insert itself; the rows are
	// written under a context that cannot be cancelled, checking ctx
	// between chunks instead.
	rowCtx := context.WithoutCancel(ctx)
	w, err := prepareImport(rowCtx, shared, tx, manifestID, runID, dbTime(s.opts.Now()))
	if err != nil {
		return d, err
	}
	defer w.close()
	p.sortByID()
	if err := w.requests(ctx, rowCtx, p.reqs, p.hashes, &d); err != nil {
		return d, err
	}
	for _, r := range p.rejs {
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
