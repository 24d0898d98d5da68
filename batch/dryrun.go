package batch

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
)

// DryRunMatch is what a dry run found for one request. It names no
// personal data: counts only.
type DryRunMatch struct {
	RequestID  string
	Type       RequestType
	Profiles   int
	ObjectIDs  int
	EventNames int
	Events     int64 // events the profiles' summaries announce
	Err        error // lookup failed
}

// The API groups a projection counts calls of.
const (
	GroupProfile = "profile"
	GroupEvents  = "events"
	GroupDelete  = "delete"
)

// DryRunResult projects what a real run would cost.
type DryRunResult struct {
	Matches []DryRunMatch
	// Calls projects the API calls of a real run per group (GroupProfile,
	// GroupEvents, GroupDelete), following its schedule: a lookup by email
	// and one by user id per request; per access subject and event name,
	// an export with the email filter (step 1 and a page per batch of the
	// subject's events, at least one); deletes batched 100 ids a call
	// across requests; and the verification searches due within
	// VerifyWindow.
	Calls map[string]int64
	// Scans counts access subjects without an email, whose events need
	// shared unfiltered scans: their size depends on the whole account's
	// volume, which a dry run cannot see, so Calls counts one page each.
	Scans int
	// Starters is how many requests a run starts on at once (its workers,
	// or fewer requests), and FirstLookups how many lookups the first
	// access request makes: they set how long the events group waits for
	// its first export (see Projection).
	Starters, FirstLookups int
}

// Projection is the wall time a run would take at k calls in flight per
// group and the given latency per call of each group: the groups run side
// by side, so the busiest sets the pace. Lookups start at once; exports and
// deletes wait for a subject's lookups. Every worker starts with its first
// lookup and the profile group serves them k at a time in turn, so the
// first subject's second lookup comes after the other starters' first
// ones: with 16 workers at k = 2, nine lookup times pass before the first
// export can begin. A worker makes its request's lookups and exports one
// after another, so with few workers they, not the groups, set the pace.
func (r DryRunResult) Projection(k int, latency map[string]time.Duration) time.Duration {
	k = max(k, 1)
	starters, first := max(r.Starters, 1), max(r.FirstLookups, 1)
	lead := time.Duration((starters+k-1)/k+first-1) * latency[GroupProfile]
	busiest := (time.Duration(r.Calls[GroupProfile])*latency[GroupProfile] +
		time.Duration(r.Calls[GroupEvents])*latency[GroupEvents]) / time.Duration(starters)
	for g, n := range r.Calls {
		d := time.Duration(n) * latency[g] / time.Duration(k)
		if g != GroupProfile && n > 0 {
			d += lead
		}
		busiest = max(busiest, d)
	}
	return busiest
}

// NoMatches reports what a real run would stop on, suspecting the wrong
// account: at least noMatchLimit subjects looked up and none found.
func (r DryRunResult) NoMatches() bool {
	if len(r.Matches) < noMatchLimit {
		return false
	}
	for _, m := range r.Matches {
		if m.Err != nil || m.Profiles > 0 {
			return false
		}
	}
	return true
}

// DryRun looks every request's subject up (read-only calls) and projects
// the calls a real run with cfg would make. Nothing is deleted or written.
func DryRun(ctx context.Context, api CleverTap, reqs []Request, cfg Config) (DryRunResult, error) {
	r := resolver{api: api, now: time.Now}
	res := DryRunResult{Matches: make([]DryRunMatch, len(reqs)), Calls: map[string]int64{},
		Starters: min(max(cfg.Workers, 1), len(reqs))}
	if i := slices.IndexFunc(reqs, func(r Request) bool { return r.Type == Access }); i >= 0 {
		res.FirstLookups = lookupsOf(reqs[i])
	}
	var (
		mu            sync.Mutex
		guids, idents int64
	)
	checks := checksWithin(cfg)
	page := int64(max(cfg.EventBatchSize, 1))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(cfg.Workers, 1))
	for i, req := range reqs {
		g.Go(func() error {
			s, err := r.resolve(gctx, req)
			m := DryRunMatch{RequestID: req.ID, Type: req.Type, Err: err}
			lookups := int64(lookupsOf(req))
			var events, scans int64
			if err != nil {
				if ferr := runFatal(err); ferr != nil {
					return ferr
				}
			} else {
				m.Profiles, m.ObjectIDs = len(s.profiles), len(s.objectIDs)
				counts := map[string]int64{}
				for _, p := range s.profiles {
					for name, sum := range p.Events {
						counts[name] += sum.Count
					}
				}
				for _, n := range counts {
					m.Events += n
				}
				m.EventNames = len(counts)
				if req.Type == Access && m.Profiles > 0 {
					if s.filterable() {
						for _, name := range slices.Sorted(maps.Keys(counts)) {
							events += int64(len(s.emails)) * (1 + max(1, (counts[name]+page-1)/page))
						}
					} else {
						scans = 1
						events += int64(len(counts)) * 2
					}
				}
			}
			mu.Lock()
			defer mu.Unlock()
			res.Matches[i] = m
			res.Calls[GroupProfile] += lookups
			res.Calls[GroupEvents] += events
			res.Scans += int(scans)
			if req.Type == Deletion && m.Profiles > 0 {
				guids += int64(len(s.objectIDs))
				idents += int64(len(s.identities))
				res.Calls[GroupProfile] += int64(checks) * lookups
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	res.Calls[GroupDelete] = (guids+maxDeleteIDs-1)/maxDeleteIDs + (idents+maxDeleteIDs-1)/maxDeleteIDs
	return res, nil
}

// lookupsOf is how many lookups resolve makes for req: by email and by
// user id, each one given.
func lookupsOf(req Request) int {
	n := 0
	if req.Email != "" {
		n++
	}
	if req.UserID != "" {
		n++
	}
	return n
}

// checksWithin is how many verification searches of a deletion fall within
// a run's VerifyWindow: at VerifyFirst after the delete, then each wait
// doubling up to VerifyMax.
func checksWithin(cfg Config) int {
	n, at, wait := 0, time.Duration(0), cfg.VerifyFirst
	for wait > 0 {
		at += wait
		if at > cfg.VerifyWindow {
			return n
		}
		n++
		wait = min(wait*2, cfg.VerifyMax)
	}
	return n
}
