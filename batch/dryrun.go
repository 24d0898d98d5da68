package batch

import (
	"context"
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

// DryRunResult projects what a real run would cost.
type DryRunResult struct {
	Matches []DryRunMatch
	// Calls projects API calls per group ("profile", "events", "delete"),
	// lookups of the dry run included.
	Calls map[string]int64
	// MeanLatency is the mean duration of the dry run's own lookups.
	MeanLatency time.Duration
	// Projected is the projected API time of a real run: per group,
	// calls × mean latency ÷ calls in flight; groups run side by side.
	Projected time.Duration
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
// the calls and time a real run would need. Nothing is deleted or written.
// perGroup is the client's K; pageSize the export page size.
func DryRun(ctx context.Context, api CleverTap, reqs []Request, workers, perGroup, pageSize int) (DryRunResult, error) {
	r := resolver{api: api, now: time.Now}
	res := DryRunResult{Matches: make([]DryRunMatch, len(reqs)), Calls: map[string]int64{}}
	var (
		mu      sync.Mutex
		lookups int64
		spent   time.Duration
		ids     int64
	)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(max(workers, 1))
	for i, req := range reqs {
		g.Go(func() error {
			start := time.Now()
			s, err := r.resolve(gctx, req)
			elapsed := time.Since(start)
			m := DryRunMatch{RequestID: req.ID, Type: req.Type, Err: err}
			calls := int64(0)
			if req.Email != "" {
				calls++
			}
			if req.UserID != "" {
				calls++
			}
			var events, deletes int64
			if err == nil {
				m.Profiles, m.ObjectIDs = len(s.profiles), len(s.objectIDs)
				names := map[string]bool{}
				for _, p := range s.profiles {
					for name, sum := range p.Events {
						names[name] = true
						m.Events += sum.Count
						if req.Type == Access {
							events += 1 + (sum.Count+int64(pageSize)-1)/int64(pageSize)
						}
					}
				}
				m.EventNames = len(names)
				if req.Type == Deletion && m.Profiles > 0 {
					deletes = int64(len(s.objectIDs) + len(s.identities))
				}
			} else if isFatalAPI(err) {
				return fatal("CleverTap refused the credentials: %w", err)
			}
			mu.Lock()
			defer mu.Unlock()
			res.Matches[i] = m
			lookups += calls
			spent += elapsed
			res.Calls["profile"] += calls
			if req.Type == Deletion && m.Profiles > 0 {
				res.Calls["profile"] += 2 * calls // two verification searches, typically
			}
			res.Calls["events"] += events
			ids += deletes
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}
	res.Calls["delete"] = (ids + maxDeleteIDs - 1) / maxDeleteIDs
	if lookups > 0 {
		res.MeanLatency = spent / time.Duration(lookups)
	}
	k := time.Duration(max(perGroup, 1))
	for _, n := range res.Calls {
		res.Projected = max(res.Projected, time.Duration(n)*res.MeanLatency/k)
	}
	return res, nil
}
