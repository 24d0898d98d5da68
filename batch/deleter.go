package batch

import (
	"context"
	"sync"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
	"golang.org/x/sync/errgroup"
)

// maxDeleteIDs is CleverTap's limit of ids per delete call.
const maxDeleteIDs = clevertap.MaxDeleteIDs

// deleter batches the ids of many deletion requests into delete calls of up
// to 100 ids each (guids and identities in separate calls, as CleverTap
// requires). A queue is sent when it is full, when its oldest id has waited
// DeleteBatchWait, or when no more requests will come. A request counts as
// submitted once every one of its ids was accepted.
type deleter struct {
	api   CleverTap
	store Store
	runID string
	now   func() time.Time
	wait  time.Duration // DeleteBatchWait
	first time.Duration // wait before a deletion's first verification

	// submitted takes a request whose every id CleverTap accepted (the
	// ledger already says so): to verification, or closed in submit mode.
	submitted func(ctx context.Context, w *Work) error
	// failed records a failed delete call against a request; only a
	// run-fatal error is returned.
	failed func(ctx context.Context, w Work, err error) error
	// finished is called once no more deletions will reach verification.
	finished func()

	in      chan Work
	drained chan struct{} // closed when no more requests will come
	done    chan struct{} // closed when the run's other work is done
	once    sync.Once

	mu          sync.Mutex
	outstanding map[string]int   // request id → ids not yet accepted
	works       map[string]*Work // request id → its work
	failedReqs  map[string]bool
}

type deleteQueue struct {
	kind   string // "guid" or "identity"
	ids    []string
	owners map[string][]string // id → request ids
	since  time.Time           // when the oldest queued id arrived
}

// newDeleter wires a deleter to the run: its ledger and API, and what
// happens to a request once CleverTap accepted it or refused it.
func (r *Runner) newDeleter() *deleter {
	return &deleter{
		api: r.api, store: r.store, runID: r.runID, now: r.now, wait: r.cfg.DeleteBatchWait, first: r.nextCheck(1),
		submitted: r.submitted, failed: r.failed, finished: r.verifier.closeInput,
		in: make(chan Work), drained: make(chan struct{}), done: make(chan struct{}),
		outstanding: map[string]int{}, works: map[string]*Work{}, failedReqs: map[string]bool{},
	}
}

// add hands a planned deletion to the batcher.
func (d *deleter) add(ctx context.Context, w Work) error {
	select {
	case d.in <- w:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// noMore says no more requests will come: what is queued goes now, not
// when the rest of the run is done, so its verification can start.
func (d *deleter) noMore() { d.once.Do(func() { close(d.drained) }) }

// close says the run's other work is done; the loop sends what it holds.
func (d *deleter) close() {
	d.noMore()
	close(d.done)
}

// loop collects ids and sends batches until close, then sends the rest
// and waits for every call. It closes the verifier's input when it ends.
func (d *deleter) loop(ctx context.Context) error {
	defer d.finished()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(4) // the client's quota bounds calls in flight; this bounds goroutines
	guids := &deleteQueue{kind: "guid", owners: map[string][]string{}}
	idents := &deleteQueue{kind: "identity", owners: map[string][]string{}}
	queues := []*deleteQueue{guids, idents}
	wait := d.wait
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	send := func(q *deleteQueue, n int) {
		ids := q.ids[:n:n]
		owners := make(map[string][]string, n)
		for _, id := range ids {
			owners[id] = q.owners[id]
			delete(q.owners, id)
		}
		q.ids = append([]string(nil), q.ids[n:]...)
		q.since = time.Now()
		kind := q.kind
		g.Go(func() error { return d.send(gctx, kind, ids, owners) })
	}
	// flush sends every queue whose oldest id has waited long enough, or
	// all of them, and sets the timer for the next one due.
	flush := func(all bool) {
		next := time.Duration(-1)
		for _, q := range queues {
			for len(q.ids) > 0 && (all || time.Since(q.since) >= wait) {
				send(q, min(len(q.ids), maxDeleteIDs))
			}
			if len(q.ids) > 0 {
				if due := wait - time.Since(q.since); next < 0 || due < next {
					next = due
				}
			}
		}
		if next < 0 {
			timer.Stop()
			return
		}
		timer.Reset(max(next, 0))
	}
	drained := d.drained
	for {
		select {
		case w := <-d.in:
			for _, q := range queues {
				if len(q.ids) == 0 {
					q.since = time.Now()
				}
			}
			d.enqueue(&w, guids, idents)
			for _, q := range queues {
				for len(q.ids) >= maxDeleteIDs {
					send(q, maxDeleteIDs)
				}
			}
			flush(false)
		case <-timer.C:
			flush(false)
		case <-drained:
			drained = nil
			flush(true)
		case <-d.done:
			flush(true)
			return g.Wait()
		case <-gctx.Done():
			if err := g.Wait(); err != nil {
				return err // a send's own error (e.g. fatal), not the cancellation it caused
			}
			return ctx.Err()
		}
	}
}

// enqueue adds a request's ids to the queues, merging ids another request
// already queued.
func (d *deleter) enqueue(w *Work, guids, idents *deleteQueue) {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, pair := range []struct {
		q   *deleteQueue
		ids []string
	}{{guids, w.Plan.ObjectIDs}, {idents, w.Plan.Identities}} {
		for _, id := range pair.ids {
			if _, queued := pair.q.owners[id]; !queued {
				pair.q.ids = append(pair.q.ids, id)
			}
			pair.q.owners[id] = append(pair.q.owners[id], w.ID)
			n++
		}
	}
	d.outstanding[w.ID] += n
	d.works[w.ID] = w
}

// send makes one delete call and settles the requests it completes.
func (d *deleter) send(ctx context.Context, kind string, ids []string, owners map[string][]string) error {
	req := clevertap.DeleteRequest{GUIDs: ids}
	if kind == "identity" {
		req = clevertap.DeleteRequest{Identities: ids}
	}
	err := d.api.Delete(ctx, req)
	if err != nil {
		return d.fail(ctx, owners, err)
	}
	at := d.now()
	var complete []*Work
	d.mu.Lock()
	for _, reqs := range owners {
		for _, id := range reqs {
			d.outstanding[id]--
			if d.outstanding[id] == 0 && !d.failedReqs[id] {
				complete = append(complete, d.works[id])
				delete(d.works, id)
			}
		}
	}
	d.mu.Unlock()
	if len(complete) == 0 {
		return nil
	}
	ids = ids[:0:0]
	for _, w := range complete {
		ids = append(ids, w.ID)
	}
	next := at.Add(d.first)
	if err := d.store.MarkDeleteSubmitted(ctx, d.runID, ids, at, next); err != nil {
		return fatal("recording accepted deletes: %w", err)
	}
	for _, w := range complete {
		w.Status, w.DeleteRequestedAt, w.NextCheckAt = StatusDeleteSubmitted, at, next
		if err := d.submitted(ctx, w); err != nil {
			return err
		}
	}
	return nil
}

// fail records a failed delete call against each request it carried.
func (d *deleter) fail(ctx context.Context, owners map[string][]string, err error) error {
	var reqs []*Work
	d.mu.Lock()
	for _, ids := range owners {
		for _, id := range ids {
			if !d.failedReqs[id] {
				d.failedReqs[id] = true
				reqs = append(reqs, d.works[id])
			}
		}
	}
	d.mu.Unlock()
	for _, w := range reqs {
		if ferr := d.failed(ctx, *w, err); ferr != nil {
			return ferr
		}
	}
	return nil
}
