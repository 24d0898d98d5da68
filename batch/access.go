package batch

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
)

// accessJob is an access request between its lookup and its completion.
type accessJob struct {
	w Work
	s *subject

	mu        sync.Mutex
	remaining int              // event names not yet exported
	got       map[string]int64 // events kept per name, this run and earlier
	expected  map[string]int64 // events per name according to the summaries
	failed    bool
}

// need is one event name a subject needs exported, over a date range.
type need struct {
	name     string
	from, to clevertap.Date
	expected int64
}

// parkedNeed waits for a shared scan of its event name.
type parkedNeed struct {
	job    *accessJob
	need   need
	events []Event
}

// access looks the subject up, saves the bundle's profiles and exports every
// event of every event name their summaries list. Names already exported by
// an earlier run are not exported again.
func (r *Runner) access(ctx context.Context, w Work) error {
	s, err := r.resolve(ctx, w.Request)
	if err != nil {
		return r.failed(ctx, w, err)
	}
	if len(s.profiles) == 0 {
		return r.finish(ctx, w.ID, StatusNotFound, "no CleverTap profile matched the email or user id")
	}
	if err := r.cfg.Store.SaveProfiles(ctx, r.cfg.RunID, w.ID, s.found); err != nil {
		return fatal("saving profiles of request %s: %w", w.ID, err)
	}
	job := &accessJob{w: w, s: s, got: maps.Clone(w.DoneEventNames), expected: map[string]int64{}}
	if job.got == nil {
		job.got = map[string]int64{}
	}
	needs := r.needs(s.profiles)
	var todo []need
	for _, n := range needs {
		job.expected[n.name] = n.expected
		if _, done := job.got[n.name]; !done {
			todo = append(todo, n)
		}
	}
	job.remaining = len(todo)
	for _, n := range todo {
		if r.shared.Load() {
			r.park(job, n)
			continue
		}
		events, err := r.exportFiltered(ctx, s, n)
		switch {
		case errors.Is(err, errNoFilter), errors.Is(err, clevertap.ErrFilterRejected):
			if errors.Is(err, clevertap.ErrFilterRejected) && !r.shared.Swap(true) {
				r.log.Info("CleverTap refused the profile filter; falling back to shared unfiltered scans")
			}
			r.park(job, n)
			continue
		case err != nil:
			return r.failed(ctx, w, err)
		}
		if err := r.saveEvents(ctx, []EventBatch{{RequestID: w.ID, EventName: n.name, Expected: n.expected, Events: events}}); err != nil {
			return err
		}
		if last := job.done(n.name, len(events)); last {
			return r.finishAccess(ctx, job)
		}
	}
	if len(todo) == 0 {
		return r.finishAccess(ctx, job)
	}
	return nil
}

// done counts one exported name and reports whether it was the last.
func (j *accessJob) done(name string, n int) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.got[name] = int64(n)
	j.remaining--
	return j.remaining == 0 && !j.failed
}

// needs lists, per event name in the profiles' summaries, the date range to
// export (first_seen..last_seen in the account timezone, with a day of slack
// either side, never past today) and the count the summaries announce.
func (r *Runner) needs(profiles []*clevertap.Profile) []need {
	type span struct {
		first, last time.Time
		count       int64
	}
	spans := map[string]*span{}
	for _, p := range profiles {
		for name, sum := range p.Events {
			sp, ok := spans[name]
			if !ok {
				spans[name] = &span{sum.FirstSeen, sum.LastSeen, sum.Count}
				continue
			}
			if sum.FirstSeen.Before(sp.first) {
				sp.first = sum.FirstSeen
			}
			if sum.LastSeen.After(sp.last) {
				sp.last = sum.LastSeen
			}
			sp.count += sum.Count
		}
	}
	loc := r.cfg.Location
	today := clevertap.DateOf(r.cfg.Now(), loc)
	out := make([]need, 0, len(spans))
	for name, sp := range spans {
		from := clevertap.DateOf(sp.first.Add(-24*time.Hour), loc)
		to := clevertap.DateOf(sp.last.Add(24*time.Hour), loc)
		if to > today {
			to = today
		}
		if from > to {
			from = to
		}
		out = append(out, need{name: name, from: from, to: to, expected: sp.count})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// errNoFilter means the subject cannot be exported with an email filter
// (a profile without an email): it waits for a shared scan.
var errNoFilter = errors.New("subject has a profile without an email")

// exportFiltered exports one event name for one subject with CleverTap's
// profile filter, once per email of the subject. If CleverTap is seen to
// ignore the filter (records of other emails come back), the export was in
// fact a full scan: its matches are complete, and later subjects go to shared
// scans instead.
func (r *Runner) exportFiltered(ctx context.Context, s *subject, n need) ([]Event, error) {
	emails := slices.Sorted(maps.Keys(s.emails))
	if len(emails) == 0 {
		return nil, errNoFilter
	}
	for _, p := range s.profiles {
		if p.Email == "" {
			return nil, errNoFilter
		}
	}
	var events []Event
	for _, email := range emails {
		var kept []Event
		ignored := false
		q := clevertap.EventQuery{EventName: n.name, From: n.from, To: n.to, BatchSize: r.cfg.EventBatchSize, FilterEmail: email}
		for page, err := range r.cfg.API.Events(ctx, q) {
			if err != nil {
				return nil, err
			}
			for i := range page {
				rec := &page[i]
				if rec.Email != "" && !strings.EqualFold(rec.Email, email) {
					ignored = true
				}
				if s.owns(rec) {
					kept = append(kept, toEvent(n.name, rec))
				}
			}
		}
		if ignored {
			if !r.shared.Swap(true) {
				r.log.Info("CleverTap ignored the profile filter; falling back to shared unfiltered scans")
			}
			return kept, nil // an unfiltered scan: complete on its own
		}
		events = append(events, kept...)
	}
	return events, nil
}

func toEvent(name string, rec *clevertap.EventRecord) Event {
	return Event{
		ObjectID:         rec.ObjectID,
		Identity:         rec.Identity,
		Email:            rec.Email,
		EventName:        name,
		Time:             rec.Time.UTC(),
		EventPropsJSON:   rawJSON(rec.EventProps, "{}"),
		SessionPropsJSON: rawJSON(rec.SessionProps, "{}"),
	}
}

func (r *Runner) saveEvents(ctx context.Context, batches []EventBatch) error {
	if err := r.cfg.Store.SaveEvents(ctx, r.cfg.RunID, batches); err != nil {
		return fatal("saving exported events: %w", err)
	}
	return nil
}

// park queues a need for the shared scan of its event name.
func (r *Runner) park(job *accessJob, n need) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.parked[n.name] = append(r.parked[n.name], &parkedNeed{job: job, need: n})
}

// finishAccess completes an access request whose names are all exported,
// flagging any name whose count differs from CleverTap's own summary.
func (r *Runner) finishAccess(ctx context.Context, job *accessJob) error {
	job.mu.Lock()
	var diffs []string
	for _, name := range slices.Sorted(maps.Keys(job.expected)) {
		if got, want := job.got[name], job.expected[name]; got != want {
			diffs = append(diffs, fmt.Sprintf("%s %d of %d", name, got, want))
		}
	}
	job.mu.Unlock()
	detail := fmt.Sprintf("%d profile(s)", len(job.s.profiles))
	if len(diffs) > 0 {
		detail += "; events exported differ from CleverTap's summary count: " + strings.Join(diffs, ", ")
	}
	return r.finish(ctx, job.w.ID, StatusDone, detail)
}
