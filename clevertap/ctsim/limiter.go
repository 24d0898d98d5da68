package ctsim

import (
	"math"
	"math/rand/v2"
	"sync"
	"time"
)

// limiter counts requests per API group, admits them under the in-flight
// limits, the optional leaky bucket and the sticky-429 window, decides
// faults, and keeps the statistics.
type limiter struct {
	limits    map[string]int
	rps       float64
	sticky    time.Duration
	faultRate float64
	kinds     []Fault

	mu          sync.Mutex
	rnd         *rand.Rand
	inFlight    map[string]int
	stats       Stats
	seq         map[string]int64           // requests seen per group, never reset
	injected    map[string]map[int64]Fault // by group, then by seq
	stickyUntil map[string]time.Time       // sim clock
	level       float64                    // leaky bucket content
	levelAt     time.Time                  // real time level was computed
}

func newLimiter(o Options) *limiter {
	return &limiter{
		limits:      o.Limits,
		rps:         o.RPS,
		sticky:      o.Sticky429,
		faultRate:   o.FaultRate,
		kinds:       o.FaultKinds,
		rnd:         rand.New(rand.NewPCG(uint64(o.FaultSeed), 0x5eed)),
		inFlight:    map[string]int{},
		stats:       newStats(),
		seq:         map[string]int64{},
		injected:    map[string]map[int64]Fault{},
		stickyUntil: map[string]time.Time{},
	}
}

// enter counts a request to group and decides its fault, if any: an
// injected one first, else a random one at the fault rate.
func (l *limiter) enter(group string) Fault {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.Calls[group]++
	l.seq[group]++
	var f Fault
	if byseq := l.injected[group]; byseq != nil {
		if inj, ok := byseq[l.seq[group]]; ok {
			delete(byseq, l.seq[group])
			f = inj
		}
	}
	if l.faultRate > 0 {
		// Draw on every request so the sequence depends only on the order
		// of requests, not on which of them had an injected fault.
		p, k := l.rnd.Float64(), l.rnd.IntN(len(l.kinds))
		if f == "" && p < l.faultRate {
			f = l.kinds[k]
		}
	}
	if f != "" {
		l.stats.Faults[string(f)]++
	}
	return f
}

// inject makes the nth request to group from now (1-based) get fault f.
func (l *limiter) inject(group string, nth int, f Fault) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.injected[group] == nil {
		l.injected[group] = map[int64]Fault{}
	}
	l.injected[group][l.seq[group]+int64(nth)] = f
}

// admit takes an in-flight slot of group, or reports false (answer 429) when
// the group is in its sticky window, the leaky bucket overflows or the group
// is at its limit. now is the sim clock; release gives the slot back.
func (l *limiter) admit(group string, now time.Time) (release func(), ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if now.Before(l.stickyUntil[group]) || !l.bucketTake() {
		l.stats.TooMany[group]++
		return nil, false
	}
	if limit := l.limits[group]; limit > 0 && l.inFlight[group] >= limit {
		l.stats.TooMany[group]++
		if l.sticky > 0 {
			l.stickyUntil[group] = now.Add(l.sticky)
		}
		return nil, false
	}
	l.inFlight[group]++
	if n := l.inFlight[group]; n > l.stats.MaxInFlight[group] {
		l.stats.MaxInFlight[group] = n
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			l.mu.Lock()
			l.inFlight[group]--
			l.mu.Unlock()
		})
	}, true
}

// bucketTake adds one request to the leaky bucket, which drains at rps per
// second (real time) and holds max(1, rps); it reports false on overflow.
func (l *limiter) bucketTake() bool {
	if l.rps <= 0 {
		return true
	}
	now := time.Now()
	if !l.levelAt.IsZero() {
		l.level = math.Max(0, l.level-now.Sub(l.levelAt).Seconds()*l.rps)
	}
	l.levelAt = now
	if l.level+1 > math.Max(1, l.rps) {
		return false
	}
	l.level++
	return true
}

func (l *limiter) snapshot() Stats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats.clone()
}

func (l *limiter) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats = newStats()
	for g, n := range l.inFlight {
		if n > 0 {
			l.stats.MaxInFlight[g] = n
		}
	}
}

func (l *limiter) countDelete(ids int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.stats.DeleteCalls++
	l.stats.DeleteIDs += int64(ids)
}
