package batch

import (
	"container/heap"
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// verifier searches for deleted subjects again at widening intervals. It
// runs beside the rest of the run; once its input is closed it keeps
// polling for VerifyWindow, then leaves what is still pending to the next
// run (the ledger holds when each check is due).
type verifier struct {
	r *Runner

	mu     sync.Mutex
	queue  []Work
	closed bool
	wake   chan struct{}
}

func newVerifier(r *Runner) *verifier {
	return &verifier{r: r, wake: make(chan struct{}, 1)}
}

// add schedules a deletion for verification.
func (v *verifier) add(w Work) {
	v.mu.Lock()
	v.queue = append(v.queue, w)
	v.mu.Unlock()
	v.r.cfg.Progress.Pending.Add(1)
	v.poke()
}

// closeInput says no more deletions will be added.
func (v *verifier) closeInput() {
	v.mu.Lock()
	v.closed = true
	v.mu.Unlock()
	v.poke()
}

func (v *verifier) poke() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// take moves queued work into the heap; it reports whether input is closed.
func (v *verifier) take(h *checkHeap) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, w := range v.queue {
		heap.Push(h, w)
	}
	v.queue = nil
	return v.closed
}

func (v *verifier) loop(ctx context.Context) error {
	h := &checkHeap{}
	var windowEnd time.Time // real time; set when input closes
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		closed := v.take(h)
		if closed && windowEnd.IsZero() {
			windowEnd = time.Now().Add(v.r.cfg.VerifyWindow)
		}
		if err := v.checkDue(ctx, h); err != nil {
			return err
		}
		if closed && (h.Len() == 0 || !time.Now().Before(windowEnd)) {
			if h.Len() > 0 {
				v.r.log.Info("deletions left pending for the next run", "pending", h.Len())
			}
			return nil
		}
		wait := time.Hour
		if h.Len() > 0 {
			wait = max((*h)[0].NextCheckAt.Sub(v.r.cfg.Now()), 10*time.Millisecond)
		}
		if closed {
			wait = min(wait, time.Until(windowEnd))
		}
		timer.Reset(wait)
		select {
		case <-timer.C:
		case <-v.wake:
			if !timer.Stop() {
				<-timer.C
			}
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// checkDue runs every check that is due now, concurrently, and puts the
// still-pending ones back with their next due time.
func (v *verifier) checkDue(ctx context.Context, h *checkHeap) error {
	now := v.r.cfg.Now()
	var due []Work
	for h.Len() > 0 && !(*h)[0].NextCheckAt.After(now) {
		due = append(due, heap.Pop(h).(Work))
	}
	if len(due) == 0 {
		return nil
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.r.cfg.Workers)
	for _, w := range due {
		g.Go(func() error {
			again, err := v.check(gctx, w)
			if err != nil || again == nil {
				return err
			}
			mu.Lock()
			heap.Push(h, *again)
			mu.Unlock()
			return nil
		})
	}
	return g.Wait()
}

// check runs one verification and records it; it returns the work to check
// again, or nil when the request is settled.
func (v *verifier) check(ctx context.Context, w Work) (*Work, error) {
	r := v.r
	c, err := r.checkDeletion(ctx, &w)
	if err != nil {
		if isFatalAPI(err) || errors.Is(err, ErrFatal) || ctx.Err() != nil {
			return nil, r.failed(ctx, w, err)
		}
		// A failed search is not a verdict: try again at the next interval.
		r.log.Warn("verification search failed", "request_id", w.ID, "err", err)
		w.NextCheckAt = r.cfg.Now().Add(r.nextCheck(w.Checks + 1))
		return &w, nil
	}
	if err := r.cfg.Store.RecordCheck(ctx, r.cfg.RunID, w.ID, c); err != nil {
		return nil, fatal("recording verification of request %s: %w", w.ID, err)
	}
	w.Checks++
	w.LastCheckedAt = c.At
	if c.Status != StatusDeleteSubmitted {
		r.cfg.Progress.Pending.Add(-1)
		r.cfg.Progress.Finished.Add(1)
		r.log.Debug("deletion settled", "request_id", w.ID, "status", c.Status, "checks", w.Checks)
		return nil, nil
	}
	w.NextCheckAt = c.Next
	return &w, nil
}

// checkHeap orders work by when its next check is due.
type checkHeap []Work

func (h checkHeap) Len() int           { return len(h) }
func (h checkHeap) Less(i, j int) bool { return h[i].NextCheckAt.Before(h[j].NextCheckAt) }
func (h checkHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *checkHeap) Push(x any)        { *h = append(*h, x.(Work)) }
func (h *checkHeap) Pop() any {
	old := *h
	w := old[len(old)-1]
	*h = old[:len(old)-1]
	return w
}
