package clevertap

import (
	"container/list"
	"context"
	"sync"
)

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
