package clevertap

import (
	"sync"
	"time"
)

// Stats counts what a client did, per group, for a run summary.
type Stats struct {
	Calls       map[Group]int64 // logical calls (one per method call or cursor page)
	Attempts    map[Group]int64 // HTTP attempts, retries included
	Retries     map[Group]int64 // attempts that were retried
	RateLimited map[Group]int64 // 429 answers
	MaxInFlight map[Group]int   // most requests seen in flight at once
	// Answered and Busy are the attempts CleverTap answered and the time
	// they took, from sending to the end of the body (no queueing in the
	// client): Busy/Answered is the group's latency per call.
	Answered map[Group]int64
	Busy     map[Group]time.Duration
}

// Latency is the mean time CleverTap took to answer a call of group g,
// 0 when none was answered.
func (s Stats) Latency(g Group) time.Duration {
	if s.Answered[g] == 0 {
		return 0
	}
	return s.Busy[g] / time.Duration(s.Answered[g])
}

// Stats returns a copy of the client's counters.
func (c *Client) Stats() Stats {
	s := Stats{
		Calls:       map[Group]int64{},
		Attempts:    map[Group]int64{},
		Retries:     map[Group]int64{},
		RateLimited: map[Group]int64{},
		MaxInFlight: map[Group]int{},
		Answered:    map[Group]int64{},
		Busy:        map[Group]time.Duration{},
	}
	c.stats.mu.Lock()
	for g, n := range c.stats.by {
		s.Calls[g] = n.calls
		s.Attempts[g] = n.attempts
		s.Retries[g] = n.retries
		s.RateLimited[g] = n.rateLimited
		s.Answered[g] = n.answered
		s.Busy[g] = n.busy
	}
	c.stats.mu.Unlock()
	for g, gt := range c.gates {
		_, s.MaxInFlight[g] = gt.state()
	}
	return s
}

type groupCounts struct {
	calls, attempts, retries, rateLimited, answered int64
	busy                                            time.Duration
}

type counters struct {
	mu sync.Mutex
	by map[Group]*groupCounts
}

func newCounters() *counters {
	c := &counters{by: make(map[Group]*groupCounts, len(groups))}
	for _, g := range groups {
		c.by[g] = &groupCounts{}
	}
	return c
}

func (c *counters) add(g Group, f func(*groupCounts)) {
	c.mu.Lock()
	f(c.by[g])
	c.mu.Unlock()
}
