package batch

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// verifier searches for deleted subjects again at widening intervals. It
// runs beside the rest of the run; once its input is closed it keeps
// polling for VerifyWindow, then leaves what is still pending to the next
// run (the ledger holds when each check is due).
type verifier struct {
	workers int
	window  time.Duration // VerifyWindow
	now     func() time.Time
	log     *slog.Logger
	prog    *Progress

	// check searches for a deleted subject again and records the search.
	// It returns the work to check again (nil when settled), or a
	// run-fatal error.
	check func(ctx context.Context, w Work) (*Work, error)

	mu     sync.Mutex
	queue  []Work
	closed bool
	wake   chan struct{}
}

// newVerifier wires a verifier to the run.
func (r *Runner) newVerifier() *verifier {
	return &verifier{workers: r.cfg.Workers, window: r.cfg.VerifyWindow, now: r.now, log: r.log, prog: r.prog,
		check: r.verify, wake: make(chan struct{}, 1)}
}

// add schedules a deletion for verification.
func (v *verifier) add(w Work) {
	v.mu.Lock()
	v.queue = append(v.queue, w)
	v.mu.Unlock()
	v.prog.Pending.Add(1)
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
			windowEnd = time.Now().Add(v.window)
		}
		if err := v.checkDue(ctx, h); err != nil {
			return err
		}
		// Nothing left that this run could still do: every check still to
		// come is due after the window closes (or the window is over).
		if closed && (h.Len() == 0 || (*h)[0].NextCheckAt.Sub(v.now()) > time.Until(windowEnd)) {
			if h.Len() > 0 {
				v.log.Info("deletions left pending for the next run", "pending", h.Len(),
					"next_check_at", (*h)[0].NextCheckAt.UTC().Format(time.RFC3339))
			}
			return nil
		}
		wait := time.Hour
		if h.Len() > 0 {
			wait = max((*h)[0].NextCheckAt.Sub(v.now()), 10*time.Millisecond)
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
	now := v.now()
	var due []Work
	for h.Len() > 0 && !(*h)[0].NextCheckAt.After(now) {
		due = append(due, heap.Pop(h).(Work))
	}
	if len(due) == 0 {
		return nil
	}
	var mu sync.Mutex
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(v.workers)
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
