package clevertap

import (
	"fmt"
	"sync"
	"time"
)

// breaker stops a client from waiting on a network that is down. It counts
// attempts: an attempt that got an HTTP answer, whatever its status, closes
// it; one that failed on the network (refused, reset, timed out, DNS) adds a
// failure. When at least min attempts in a row failed on the network and no
// attempt was answered within the last window, it opens: calls fail at once
// with ErrUnreachable for one window. Then it lets attempts through again; the
// first answer closes it, the first network failure opens it again.
//
// Attempts rather than calls are counted because a call against a server
// that accepts connections and never answers spends its whole retry budget
// (minutes) in one call.
type breaker struct {
	window time.Duration
	min    int
	now    func() time.Time

	mu        sync.Mutex
	failures  int       // network failures in a row
	lastOK    time.Time // when an attempt was last answered; zero: never
	openUntil time.Time
	last      error // the last network failure
}

// allow returns nil, or an error wrapping ErrUnreachable while the breaker
// is open. A nil breaker is disabled.
func (b *breaker) allow(op string) error {
	if b == nil {
		return nil
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.now().Before(b.openUntil) {
		return nil
	}
	return fmt.Errorf("clevertap: %s: %w: %d attempts in a row failed on the network and none was answered in the last %v (last failure: %v)",
		op, ErrUnreachable, b.failures, b.window, b.last)
}

// answered records an attempt that got an HTTP answer.
func (b *breaker) answered() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.failures, b.lastOK, b.openUntil, b.last = 0, b.now(), time.Time{}, nil
}

// failed records an attempt that failed on the network.
func (b *breaker) failed(err error) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	b.failures++
	b.last = err
	if b.failures >= b.min && (b.lastOK.IsZero() || now.Sub(b.lastOK) >= b.window) {
		b.openUntil = now.Add(b.window)
	}
}
