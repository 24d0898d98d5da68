package clevertap

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
)

// Limiter paces requests; *rate.Limiter from golang.org/x/time/rate
// satisfies it. The client waits on it before every HTTP attempt.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Group is a CleverTap API group: CleverTap limits concurrent in-flight
// requests per account and group.
type Group string

// The groups this client calls.
const (
	GroupProfile Group = "profile" // GET /1/profile.json
	GroupEvents  Group = "events"  // /1/events.json, both steps
	GroupDelete  Group = "delete"  // POST /1/delete/profiles.json
)

var groups = []Group{GroupProfile, GroupEvents, GroupDelete}

// Quota is the share of CleverTap's per-group concurrency limit this client
// may use. The client allows at most K = max(1, floor(Concurrency × Share))
// requests in flight per group, for all its callers together.
type Quota struct {
	Concurrency int     // C: CleverTap's in-flight limit per group; 0 means 3
	Share       float64 // fraction of C to use, in (0, 1]; 0 means 0.75
}

// PerGroup returns K, the in-flight cap per group.
func (q Quota) PerGroup() int {
	q = q.withDefaults()
	return max(1, int(math.Floor(float64(q.Concurrency)*q.Share+1e-9)))
}

func (q Quota) withDefaults() Quota {
	if q.Concurrency == 0 {
		q.Concurrency = DefaultConcurrency
	}
	if q.Share == 0 {
		q.Share = DefaultShare
	}
	return q
}

func (q Quota) validate() error {
	if q.Concurrency < 1 {
		return fmt.Errorf("clevertap: quota concurrency %d is below 1", q.Concurrency)
	}
	if math.IsNaN(q.Share) || q.Share <= 0 || q.Share > 1 {
		return fmt.Errorf("clevertap: quota share %v is outside (0, 1]", q.Share)
	}
	return nil
}

// recoverAfter is how many consecutive answers without a 429 raise a
// shrunken group cap by one.
const recoverAfter = 10

// gate bounds the in-flight requests of one group. Its effective cap starts
// at limit (K), drops by one on every 429 (never below 1) and climbs back by
// one after recoverAfter consecutive answers that were not 429. Waiters are
// served first come, first served.
type gate struct {
	mu       sync.Mutex
	limit    int
	cap      int
	inFlight int
	maxSeen  int
	streak   int
	waiters  list.List // of chan struct{}
}

func newGate(k int) *gate { return &gate{limit: k, cap: k} }

// acquire takes a slot, waiting until one is free or ctx is done.
func (g *gate) acquire(ctx context.Context) error {
	g.mu.Lock()
	if g.inFlight < g.cap && g.waiters.Len() == 0 {
		g.takeLocked()
		g.mu.Unlock()
		return nil
	}
	ready := make(chan struct{})
	elem := g.waiters.PushBack(ready)
	g.mu.Unlock()

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		select {
		case <-ready: // granted while we were giving up: hand it on
			g.inFlight--
		default:
			g.waiters.Remove(elem)
		}
		g.grantLocked()
		g.mu.Unlock()
		return ctx.Err()
	}
}

// release gives a slot back.
func (g *gate) release() {
	g.mu.Lock()
	g.inFlight--
	g.grantLocked()
	g.mu.Unlock()
}

// answered records how an attempt was answered: throttled means a 429.
func (g *gate) answered(throttled bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if throttled {
		g.cap = max(1, g.cap-1)
		g.streak = 0
		return
	}
	if g.cap >= g.limit {
		return
	}
	g.streak++
	if g.streak >= recoverAfter {
		g.cap++
		g.streak = 0
		g.grantLocked()
	}
}

func (g *gate) takeLocked() {
	g.inFlight++
	g.maxSeen = max(g.maxSeen, g.inFlight)
}

func (g *gate) grantLocked() {
	for g.inFlight < g.cap && g.waiters.Len() > 0 {
		ready := g.waiters.Remove(g.waiters.Front()).(chan struct{})
		g.takeLocked()
		close(ready)
	}
}

// state returns the effective cap and the highest in-flight count seen.
func (g *gate) state() (capNow, maxSeen int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.cap, g.maxSeen
}

// errDeadlineTooNear marks a limiter refusing to wait because the caller's
// deadline would pass first. It is the caller's deadline, so it is never
// retried, and errors.Is(err, context.DeadlineExceeded) holds.
var errDeadlineTooNear = errors.New("clevertap: rate limiter: deadline too near to wait for a token")

// waitLimiter waits on l, classifying its failures: after cancellation the
// context's error, a refusal under a deadline as the caller's deadline.
func waitLimiter(ctx context.Context, l Limiter) error {
	if l == nil {
		return nil
	}
	err := l.Wait(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if _, ok := ctx.Deadline(); ok {
		return fmt.Errorf("%w: %w (%v)", errDeadlineTooNear, context.DeadlineExceeded, err)
	}
	return fmt.Errorf("clevertap: rate limiter: %w", err)
}
