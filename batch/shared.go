package batch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
	"golang.org/x/sync/errgroup"
)

// maxSharedRounds bounds the rounds of shared scans. A round only parks
// more work when a subject gained profiles, so two rounds are the norm.
const maxSharedRounds = 5

// sharedScans serves every parked need with as few unfiltered exports as
// possible, in rounds: per event name, the subjects' date ranges are merged
// into disjoint spans and each span is scanned once for all of them. A
// round's subjects then look up the owners of records no known profile has,
// which may park more needs for another round.
func (r *Runner) sharedScans(ctx context.Context) error {
	for round := 1; ; round++ {
		r.mu.Lock()
		parked := r.parked
		r.parked = map[string][]*parkedNeed{}
		r.mu.Unlock()
		if len(parked) == 0 {
			return nil
		}
		if round > maxSharedRounds {
			return r.giveUpParked(ctx, parked)
		}
		if err := r.sharedRound(ctx, round, parked); err != nil {
			return err
		}
	}
}

// sharedRound runs one round: every scan, then every job's next step.
// Every job of the round examines every record of every scan, so a need
// found later (a newly found profile's event name) that a scan of the round
// covered needs no scan of its own.
func (r *Runner) sharedRound(ctx context.Context, round int, parked map[string][]*parkedNeed) error {
	var jobs []*accessJob
	seen := map[*accessJob]bool{}
	for _, needs := range parked {
		for _, p := range needs {
			if !seen[p.job] {
				seen[p.job] = true
				jobs = append(jobs, p.job)
			}
		}
	}
	sort.Slice(jobs, func(i, j int) bool { return jobs[i].w.ID < jobs[j].w.ID })
	idx := newOwnerIndex(jobs)

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Workers)
	scans := 0
	for _, name := range slices.Sorted(maps.Keys(parked)) {
		for _, group := range mergeSpans(parked[name]) {
			scans++
			g.Go(func() error { return r.sharedScan(gctx, name, group, jobs, idx) })
		}
	}
	r.log.Info("shared event scans", "round", round, "event_names", len(parked), "scans", scans, "requests", len(jobs))
	if err := g.Wait(); err != nil {
		return err
	}

	g, gctx = errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.Workers)
	for _, job := range jobs {
		if job.isFailed() {
			continue
		}
		g.Go(func() error { return r.advance(gctx, job) })
	}
	return g.Wait()
}

// giveUpParked fails the requests still waiting after maxSharedRounds.
func (r *Runner) giveUpParked(ctx context.Context, parked map[string][]*parkedNeed) error {
	for _, needs := range parked {
		for _, p := range needs {
			if p.job.markFailed() {
				err := fmt.Errorf("event export did not settle after %d rounds of shared scans", maxSharedRounds)
				if ferr := r.failed(ctx, p.job.w, err); ferr != nil {
					return ferr
				}
			}
		}
	}
	return nil
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

func dayAfter(d clevertap.Date) clevertap.Date {
	return clevertap.DateOf(dayOf(d).AddDate(0, 0, 1), time.UTC)
}
func dayBefore(d clevertap.Date) clevertap.Date {
	return clevertap.DateOf(dayOf(d).AddDate(0, 0, -1), time.UTC)
}

// dayOf is the UTC midnight of a YYYYMMDD date.
func dayOf(d clevertap.Date) time.Time {
	n := int(d)
	return time.Date(n/10000, time.Month(n/100%100), n%100, 0, 0, 0, 0, time.UTC)
}

// ownerIndex finds the jobs a record belongs to: by objectId, identity or
// email of their subjects.
type ownerIndex struct {
	byObject, byIdentity, byEmail map[string][]*accessJob
}

func newOwnerIndex(jobs []*accessJob) *ownerIndex {
	ix := &ownerIndex{map[string][]*accessJob{}, map[string][]*accessJob{}, map[string][]*accessJob{}}
	for _, job := range jobs {
		for id := range job.s.objectIDs {
			ix.byObject[id] = append(ix.byObject[id], job)
		}
		for id := range job.s.identities {
			ix.byIdentity[id] = append(ix.byIdentity[id], job)
		}
		for e := range job.s.emails {
			ix.byEmail[e] = append(ix.byEmail[e], job)
		}
	}
	return ix
}

// owners returns the distinct jobs rec belongs to.
func (ix *ownerIndex) owners(rec *clevertap.EventRecord) []*accessJob {
	var out []*accessJob
	add := func(js []*accessJob) {
		for _, j := range js {
			if !slices.Contains(out, j) {
				out = append(out, j)
			}
		}
	}
	add(ix.byObject[rec.ObjectID])
	if rec.Identity != "" {
		add(ix.byIdentity[rec.Identity])
	}
	if rec.Email != "" {
		add(ix.byEmail[normEmail(rec.Email)])
	}
	return out
}

// sharedScan exports one event name over the span of group, hands every
// record to the jobs of the round that own it, writing each job's into a
// part of its own page by page, and saves the name for the jobs that were
// waiting for it. The run holds one page of records at a time, however
// many the scan finds.
func (r *Runner) sharedScan(ctx context.Context, name string, group []*parkedNeed, jobs []*accessJob, idx *ownerIndex) error {
	sp := dateSpan{group[0].need.from, group[0].need.to}
	for _, p := range group {
		sp.from, sp.to = min(sp.from, p.need.from), max(sp.to, p.need.to)
	}
	end, ok := r.zone.begin(ctx.Done())
	if !ok {
		return ctx.Err()
	}
	defer end()
	waiting := make([]*accessJob, 0, len(group))
	for _, p := range group {
		waiting = append(waiting, p.job)
	}
	writers := map[*accessJob]*partWriter{}
	var active []*partWriter // writers in order of their first record
	tallies := map[*accessJob]*tally{}
	q := clevertap.EventQuery{EventName: name, From: sp.from, To: sp.to, BatchSize: r.cfg.EventBatchSize}
	for page, err := range r.api.Events(ctx, q) {
		if err == nil {
			for i := range page {
				rec := &page[i]
				at := r.eventTime(rec)
				for _, job := range idx.owners(rec) {
					zt := tallies[job]
					if zt == nil {
						zt = r.zone.tally(job.s, name)
						tallies[job] = zt
					}
					zt.see(rec, at)
					if !job.within(name, rec, at) {
						continue
					}
					w := writers[job]
					if w == nil {
						w = newPartWriter(job, name)
						writers[job] = w
						active = append(active, w)
					}
					w.add(toEvent(name, rec, at))
				}
			}
			err = r.writePages(ctx, active...)
		}
		if err != nil {
			r.dropWriters(ctx, active...)
		}
		switch {
		case errors.Is(err, clevertap.ErrInvalidRequest):
			return r.cannotExport(ctx, waiting, need{name: name, from: sp.from, to: sp.to}, err)
		case errors.Is(err, ErrFatal):
			return err
		case err != nil:
			return r.failScan(ctx, group, err)
		}
	}
	for _, zt := range tallies {
		if err := zt.settle(); err != nil {
			r.dropWriters(ctx, active...)
			return err
		}
	}
	for _, job := range jobs {
		var part heldPart // no events of the subject: the scan's days only replace
		if w := writers[job]; w != nil {
			part = w.held()
		}
		r.dropParts(ctx, job.capture(name, sp, part, r.cfg.Location))
	}
	return r.saveCovered(ctx, name, waiting)
}

// failScan records a failed shared scan against every request waiting for
// it, once per request; they are tried again by the next run.
func (r *Runner) failScan(ctx context.Context, group []*parkedNeed, err error) error {
	for _, p := range group {
		if p.job.markFailed() {
			if ferr := r.failed(ctx, p.job.w, err); ferr != nil {
				return ferr
			}
		}
	}
	return nil
}
