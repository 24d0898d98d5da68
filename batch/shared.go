package batch

import (
	"context"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
	"golang.org/x/sync/errgroup"
)

// sharedScans serves every parked need with as few unfiltered exports as
// possible: per event name, the subjects' date ranges are merged into
// disjoint spans and each span is scanned once for all of them.
func (r *Runner) sharedScans(ctx context.Context) error {
	r.mu.Lock()
	parked := r.parked
	r.parked = map[string][]*parkedNeed{}
	r.mu.Unlock()
	if len(parked) == 0 {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Workers)
	scans := 0
	for _, name := range slices.Sorted(maps.Keys(parked)) {
		for _, group := range mergeSpans(parked[name]) {
			scans++
			g.Go(func() error { return r.sharedScan(ctx, name, group) })
		}
	}
	r.log.Info("shared event scans", "event_names", len(parked), "scans", scans)
	return g.Wait()
}

// mergeSpans groups needs whose date ranges overlap or touch; each group is
// one scan from its earliest to its latest date.
func mergeSpans(needs []*parkedNeed) [][]*parkedNeed {
	sorted := slices.Clone(needs)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].need.from < sorted[j].need.from })
	var groups [][]*parkedNeed
	var end clevertap.Date
	for _, p := range sorted {
		if len(groups) == 0 || (p.need.from > end && !adjacent(end, p.need.from)) {
			groups = append(groups, []*parkedNeed{p})
			end = p.need.to
			continue
		}
		groups[len(groups)-1] = append(groups[len(groups)-1], p)
		if p.need.to > end {
			end = p.need.to
		}
	}
	return groups
}

// adjacent reports whether day b directly follows day a (across a month end).
func adjacent(a, b clevertap.Date) bool {
	return dayOf(a).AddDate(0, 0, 1).Equal(dayOf(b))
}

// dayOf is the UTC midnight of a YYYYMMDD date.
func dayOf(d clevertap.Date) time.Time {
	n := int(d)
	return time.Date(n/10000, time.Month(n/100%100), n%100, 0, 0, 0, 0, time.UTC)
}

// sharedScan exports one event name over the span of group and hands every
// record to the subjects that own it.
func (r *Runner) sharedScan(ctx context.Context, name string, group []*parkedNeed) error {
	from, to := group[0].need.from, group[0].need.to
	byObject, byIdentity, byEmail := map[string][]*parkedNeed{}, map[string][]*parkedNeed{}, map[string][]*parkedNeed{}
	for _, p := range group {
		from, to = min(from, p.need.from), max(to, p.need.to)
		for id := range p.job.s.objectIDs {
			byObject[id] = append(byObject[id], p)
		}
		for id := range p.job.s.identities {
			byIdentity[id] = append(byIdentity[id], p)
		}
		for e := range p.job.s.emails {
			byEmail[e] = append(byEmail[e], p)
		}
	}
	q := clevertap.EventQuery{EventName: name, From: from, To: to, BatchSize: r.cfg.EventBatchSize}
	for page, err := range r.cfg.API.Events(ctx, q) {
		if err != nil {
			return r.failScan(ctx, group, err)
		}
		for i := range page {
			rec := &page[i]
			seen := map[*parkedNeed]bool{}
			for _, p := range byObject[rec.ObjectID] {
				seen[p] = true
			}
			if rec.Identity != "" {
				for _, p := range byIdentity[rec.Identity] {
					seen[p] = true
				}
			}
			if rec.Email != "" {
				for _, p := range byEmail[strings.ToLower(rec.Email)] {
					seen[p] = true
				}
			}
			for p := range seen {
				p.events = append(p.events, toEvent(name, rec))
			}
		}
	}
	batches := make([]EventBatch, 0, len(group))
	for _, p := range group {
		batches = append(batches, EventBatch{RequestID: p.job.w.ID, EventName: name, Expected: p.need.expected, Events: p.events})
	}
	if err := r.saveEvents(ctx, batches); err != nil {
		return err
	}
	for _, p := range group {
		if p.job.done(name, len(p.events)) {
			if err := r.finishAccess(ctx, p.job); err != nil {
				return err
			}
		}
	}
	return nil
}

// failScan records a failed shared scan against every request waiting for
// it, once per request; they are tried again by the next run.
func (r *Runner) failScan(ctx context.Context, group []*parkedNeed, err error) error {
	for _, p := range group {
		p.job.mu.Lock()
		first := !p.job.failed
		p.job.failed = true
		p.job.mu.Unlock()
		if first {
			if ferr := r.failed(ctx, p.job.w, err); ferr != nil {
				return ferr
			}
		}
	}
	return nil
}
