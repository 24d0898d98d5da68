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
// Its subject only changes in advance, which never runs while a shared scan
// reads it.
type accessJob struct {
	w Work
	s *subject

	mu       sync.Mutex
	gen      int                  // bumped when the subject gains an email: earlier exports may miss records
	cov      map[string]*coverage // event name → what this run exported of it
	got      map[string]int64     // events saved per name, this run or (trusted) earlier
	expected map[string]int64     // events per name according to the summaries
	seen     map[string]instants  // per name, the first and last event the summaries announce
	probed   map[string]bool      // objectIds already looked up
	refused  map[string]string    // event names CleverTap refuses to export, with its reason
	failed   bool
}

// coverage is what this run holds of one event name of a subject: every
// record of the name on the days of spans was examined, and the subject's
// among them are in the ledger, in parts (see EventExport). The run keeps
// only their ids and objectIds, never the events.
type coverage struct {
	spans   []dateSpan // merged, sorted
	gen     int
	parts   []heldPart // the oldest first
	version int        // bumped on every change
	dirty   bool       // changed since last saved
	saved   int64      // the expected count last saved with the events
}

// heldPart is a part of a coverage, with the objectIds of its events.
type heldPart struct {
	EventPart
	ids map[string]bool
}

// partIDs returns the ids of c's parts; nil for no coverage.
func (c *coverage) partIDs() []PartID {
	if c == nil {
		return nil
	}
	ids := make([]PartID, 0, len(c.parts))
	for _, p := range c.parts {
		ids = append(ids, p.ID)
	}
	return ids
}

// dateSpan is an inclusive range of days.
type dateSpan struct{ from, to clevertap.Date }

// need is one event name a subject needs exported, over a date range.
type need struct {
	name     string
	from, to clevertap.Date
	expected int64
	seen     instants // the exact first and last event; from and to add a day of slack
}

// instants are the first and last moments the profiles' summaries give for
// an event name; zero when a summary gives none.
type instants struct{ first, last time.Time }

// holds reports whether at lies within the instants, both included; with no
// instants known, every moment does.
func (in instants) holds(at time.Time) bool {
	if in.first.IsZero() || in.last.IsZero() {
		return true
	}
	return !at.Before(in.first) && !at.After(in.last)
}

// parkedNeed waits for a shared scan of its event name.
type parkedNeed struct {
	job  *accessJob
	need need
}

func newAccessJob(w Work, s *subject) *accessJob {
	return &accessJob{w: w, s: s, cov: map[string]*coverage{}, got: map[string]int64{},
		expected: map[string]int64{}, seen: map[string]instants{}, probed: map[string]bool{}}
}

// access looks the subject up, saves the bundle's profiles and exports every
// event of every event name their summaries list. Names an earlier run
// exported in full are not exported again.
func (r *Runner) access(ctx context.Context, w Work) error {
	s, err := r.res.resolve(ctx, w.Request)
	if err != nil {
		return r.failed(ctx, w, err)
	}
	if len(s.profiles) == 0 {
		return r.notFound(ctx, w, "no CleverTap profile matched the email or user id")
	}
	if err := r.subjectFound(ctx); err != nil {
		return err
	}
	if len(s.conflicts) > 0 && r.cfg.OnConflict == ConflictReview {
		return r.endConflict(ctx, w, s.conflicts, "nothing was exported")
	}
	job := newAccessJob(w, s)
	if err := r.saveProfiles(ctx, job); err != nil {
		return err
	}
	return r.advance(ctx, job)
}

func (r *Runner) saveProfiles(ctx context.Context, job *accessJob) error {
	if err := r.store.SaveProfiles(ctx, r.runID, job.w.ID, job.s.found); err != nil {
		return fatal("saving profiles of request %s: %w", job.w.ID, err)
	}
	return nil
}

// advance takes an access job as far as it can go now: it exports, with the
// profile filter, every name not yet covered, parks for a shared scan what
// cannot be filtered, and once everything is exported looks up the owners
// of events that belong to no known profile. When that finds more profiles
// (orphans sharing the subject's email, which CleverTap's one-record lookup
// hides) their names and wider ranges are exported too; otherwise the
// request is done.
func (r *Runner) advance(ctx context.Context, job *accessJob) error {
	for {
		todo, hull, err := r.plan(ctx, job)
		if err != nil {
			return err
		}
		if len(todo) == 0 {
			grew, err := r.discover(ctx, job)
			var ce *conflictError
			if errors.As(err, &ce) {
				job.markFailed() // no shared scan saves for it any more
				return r.endConflict(ctx, job.w, ce.conflicts, "nothing was exported")
			}
			if err != nil {
				return r.failed(ctx, job.w, err)
			}
			if grew {
				if err := r.saveProfiles(ctx, job); err != nil {
					return err
				}
				continue
			}
			return r.finishAccess(ctx, job)
		}
		var parked []need
		for _, n := range todo {
			if !job.s.filterable() {
				parked = append(parked, n)
				continue
			}
			v, probe, err := r.filter.acquire(ctx)
			if err != nil {
				return r.failed(ctx, job.w, err)
			}
			if v == filterUnusable {
				parked = append(parked, n)
				continue
			}
			// A filtered export costs the same calls whatever its range,
			// so it covers the subject's whole active period, widened by
			// EmailLookback and up to today: records of a profile sharing
			// the email outside this name's own range reveal that profile
			// too (CleverTap's email lookup returns only one of them).
			lo := clevertap.DateOf(dayOf(hull.from).AddDate(0, 0, -r.cfg.EmailLookbackDays), time.UTC)
			today := clevertap.DateOf(r.now(), r.cfg.Location)
			own := n
			n.from, n.to = min(n.from, hull.from, lo), max(n.to, hull.to, today)
			parts, seen, err := r.exportFiltered(ctx, job, n)
			if errors.Is(err, clevertap.ErrFilterRejected) {
				// CleverTap refuses a bad event name or range the same way
				// as a filter it does not support: ask once without the
				// filter to tell which.
				parts, err = r.exportUnfiltered(ctx, job, own)
				switch {
				case err == nil: // the filter is what CleverTap refused
					seen, n = filterUnusable, own
				case errors.Is(err, clevertap.ErrInvalidRequest):
					r.filter.settle(filterUnknown, probe) // says nothing of the filter
					if err := r.cannotExport(ctx, []*accessJob{job}, own, err); err != nil {
						return err
					}
					continue
				}
			}
			if r.filter.settle(seen, probe) {
				r.log.Info("CleverTap refused or ignored the profile filter; falling back to shared unfiltered scans")
			}
			if err != nil {
				return r.failed(ctx, job.w, err)
			}
			r.dropParts(ctx, job.setExport(n, parts))
			if err := r.saveCovered(ctx, n.name, []*accessJob{job}); err != nil {
				return err
			}
		}
		if len(parked) > 0 {
			r.park(job, job.trim(parked))
			return nil
		}
	}
}

// within reports whether rec, an event of name at, lies inside the span
// the summaries give for it: export ranges are whole days with a day of
// slack either side, so a record of the subject's outside the first and
// last moments its profile's summary gives (one made since the lookup, say)
// is left out by exact instant, as that summary's count leaves it out. A
// profile whose summary lacks the name is held to the subject's span of
// it; a record of a profile not looked up yet (an orphan found by its
// email) is kept: its own summary comes with it.
func (j *accessJob) within(name string, rec *clevertap.EventRecord, at time.Time) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, p := range j.s.profiles {
		if !slices.Contains(p.ObjectIDs(), rec.ObjectID) {
			continue
		}
		if sum, ok := p.Events[name]; ok {
			return instants{sum.FirstSeen, sum.LastSeen}.holds(at)
		}
		return j.seen[name].holds(at)
	}
	return true
}

// plan returns the needs of the subject's current profiles that are still
// to be exported, and the span of days all its needs cover. Names whose
// events this run already holds in full are saved now if they changed; a
// name an earlier run exported is trusted when its count matches the
// summaries.
func (r *Runner) plan(ctx context.Context, job *accessJob) (todo []need, hull dateSpan, err error) {
	needs := r.needs(job.s.profiles)
	var save []string
	job.mu.Lock()
	job.expected = make(map[string]int64, len(needs))
	job.seen = make(map[string]instants, len(needs))
	for i, n := range needs {
		if i == 0 {
			hull = dateSpan{n.from, n.to}
		}
		hull.from, hull.to = min(hull.from, n.from), max(hull.to, n.to)
		job.expected[n.name] = n.expected
		job.seen[n.name] = n.seen
		c := job.cov[n.name]
		switch {
		case c != nil && c.gen == job.gen && c.covers(n.from, n.to):
			if c.dirty || c.saved != n.expected {
				save = append(save, n.name)
			}
		case c == nil && job.trusted(n):
			job.got[n.name] = n.expected
		default:
			todo = append(todo, n)
		}
	}
	job.mu.Unlock()
	for _, name := range save {
		if err := r.saveCovered(ctx, name, []*accessJob{job}); err != nil {
			return nil, hull, err
		}
	}
	return todo, hull, nil
}

// trusted reports whether an earlier run exported n's name completely as
// far as the summaries tell. A count that differs is exported again: the
// earlier run may have stopped before it found every profile.
func (j *accessJob) trusted(n need) bool {
	done, ok := j.w.DoneEventNames[n.name]
	return ok && done == n.expected
}

// setExport records an export of n (its parts written by one export),
// which replaces what was held. It returns the parts replaced, for the
// caller to drop.
func (j *accessJob) setExport(n need, parts []heldPart) (replaced []PartID) {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.cov[n.name]
	replaced = c.partIDs()
	next := &coverage{spans: []dateSpan{{n.from, n.to}}, gen: j.gen, parts: parts, version: 1, dirty: true}
	if c != nil {
		next.version, next.saved = c.version+1, c.saved
	}
	j.cov[n.name] = next
	return replaced
}

// capture records a shared scan of name over sp, whose events for the
// subject are in part (ID zero: none): the days of sp are replaced by what
// the scan found. It returns the parts dropped from the coverage (one of
// an earlier generation), for the caller to drop.
func (j *accessJob) capture(name string, sp dateSpan, part heldPart, loc *time.Location) (replaced []PartID) {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.cov[name]
	if c == nil || c.gen != j.gen {
		replaced = c.partIDs()
		c = &coverage{gen: j.gen}
		j.cov[name] = c
	}
	part.From, part.To = dayStart(sp.from, loc), dayStart(dayAfter(sp.to), loc)
	if part.ID != 0 || len(c.parts) > 0 { // a first part of no events replaces nothing
		c.parts = append(c.parts, part)
	}
	c.spans = mergeDateSpans(append(c.spans, sp))
	c.version++
	c.dirty = true
	return replaced
}

// dayStart is the first instant of day d in loc.
func dayStart(d clevertap.Date, loc *time.Location) time.Time {
	n := int(d)
	return time.Date(n/10000, time.Month(n/100%100), n%100, 0, 0, 0, 0, loc)
}

// export returns the export of name to finish, and its version.
func (j *accessJob) export(name string) (EventExport, int) {
	j.mu.Lock()
	defer j.mu.Unlock()
	c := j.cov[name]
	x := EventExport{RequestID: j.w.ID, EventName: name, Expected: j.expected[name], Parts: make([]EventPart, len(c.parts))}
	for i, p := range c.parts {
		x.Parts[i] = p.EventPart
	}
	return x, c.version
}

// saved notes that version of x is in the ledger, holding count events.
func (j *accessJob) saved(x EventExport, version int, count int64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if c := j.cov[x.EventName]; c != nil && c.version == version {
		c.dirty, c.saved = false, x.Expected
	}
	j.got[x.EventName] = count
}

func (j *accessJob) markFailed() (first bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	first = !j.failed
	j.failed = true
	return first
}

func (j *accessJob) isFailed() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.failed
}

// trim narrows needs to the days this run has not examined yet: a shared
// scan adds days to what a job holds.
func (j *accessJob) trim(needs []need) []need {
	j.mu.Lock()
	defer j.mu.Unlock()
	for i, n := range needs {
		if c := j.cov[n.name]; c != nil && c.gen == j.gen {
			needs[i].from, needs[i].to = c.uncovered(n.from, n.to)
		}
	}
	return needs
}

// uncovered returns the smallest range holding every day of from..to that
// no span covers. from..to must not be wholly covered.
func (c *coverage) uncovered(from, to clevertap.Date) (clevertap.Date, clevertap.Date) {
	for _, sp := range c.spans {
		switch {
		case sp.from <= from && from <= sp.to:
			from = dayAfter(sp.to)
		case sp.from <= to && to <= sp.to:
			to = dayBefore(sp.from)
		}
	}
	return from, to
}

func (c *coverage) covers(from, to clevertap.Date) bool {
	for _, sp := range c.spans {
		if sp.from <= from && to <= sp.to {
			return true
		}
	}
	return false
}

// mergeDateSpans sorts spans and merges those that overlap or touch.
func mergeDateSpans(spans []dateSpan) []dateSpan {
	slices.SortFunc(spans, func(a, b dateSpan) int { return int(a.from) - int(b.from) })
	out := spans[:0]
	for _, sp := range spans {
		if n := len(out); n > 0 && (sp.from <= out[n-1].to || adjacent(out[n-1].to, sp.from)) {
			out[n-1].to = max(out[n-1].to, sp.to)
			continue
		}
		out = append(out, sp)
	}
	return out
}

// saveCovered exports name for each job, as the parts it holds, in one
// transaction.
func (r *Runner) saveCovered(ctx context.Context, name string, jobs []*accessJob) error {
	// A job whose attempt failed (or that ended in conflict) saves nothing
	// more this run: the ledger may have closed it.
	jobs = slices.DeleteFunc(slices.Clone(jobs), (*accessJob).isFailed)
	if len(jobs) == 0 {
		return nil
	}
	exports := make([]EventExport, len(jobs))
	versions := make([]int, len(jobs))
	for i, job := range jobs {
		exports[i], versions[i] = job.export(name)
	}
	counts, err := r.store.FinishEvents(ctx, r.runID, exports)
	if err != nil {
		return fatal("saving exported events: %w", err)
	}
	for i, job := range jobs {
		job.saved(exports[i], versions[i], counts[i])
	}
	return nil
}

// discover looks up, by objectId, the owners of exported events that belong
// to none of the subject's profiles: a profile sharing the subject's email
// is exported by the email filter (and matched by email in shared scans),
// but CleverTap's lookup by email returns only one profile. It reports
// whether the subject gained a profile.
func (r *Runner) discover(ctx context.Context, job *accessJob) (bool, error) {
	job.mu.Lock()
	unknown := map[string]bool{}
	for _, c := range job.cov {
		for _, p := range c.parts {
			for id := range p.ids {
				if !job.s.objectIDs[id] && !job.probed[id] {
					unknown[id] = true
				}
			}
		}
	}
	job.mu.Unlock()
	emails := len(job.s.emails)
	grew := false
	for _, id := range slices.Sorted(maps.Keys(unknown)) {
		if job.s.objectIDs[id] {
			continue // a profile found a moment ago has it
		}
		job.mu.Lock()
		job.probed[id] = true
		job.mu.Unlock()
		p, err := r.api.Profile(ctx, clevertap.ByObjectID, id)
		if errors.Is(err, clevertap.ErrNotFound) {
			continue
		}
		if err != nil {
			return grew, err
		}
		if cs := job.s.check(p, "lookup by objectId", id); len(cs) > 0 {
			if r.cfg.OnConflict == ConflictReview {
				return grew, &conflictError{cs}
			}
			job.s.conflicts = append(job.s.conflicts, cs...)
		}
		m := MatchedByEmail
		if !job.s.emails[normEmail(p.Email)] && p.Identity != "" && job.s.identities[p.Identity] {
			m = MatchedByIdentity
		}
		if job.s.add(p, m, r.now()) {
			grew = true
		}
	}
	if len(job.s.emails) != emails {
		job.mu.Lock()
		job.gen++ // filtered exports did not ask for the new email
		job.mu.Unlock()
	}
	return grew, nil
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
	today := clevertap.DateOf(r.now(), loc)
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
		out = append(out, need{name: name, from: from, to: to, expected: sp.count, seen: instants{sp.first, sp.last}})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

// filterVerdict is what a run knows of CleverTap's profile filter.
type filterVerdict int

const (
	filterUnknown  filterVerdict = iota
	filterApplied                // a filtered export returned only the asked email's records
	filterUnusable               // refused, or seen ignored: use shared scans
)

// filterState lets one export find out whether the profile filter works
// while the others wait: were every worker to try at once and the filter be
// ignored, each would pay for a full unfiltered scan.
type filterState struct {
	mu      sync.Mutex
	verdict filterVerdict
	probing bool
	changed chan struct{} // closed and replaced on every change
}

func newFilterState() *filterState { return &filterState{changed: make(chan struct{})} }

// acquire returns the verdict. While it is unknown, the first caller is
// made the prober (probe is true) and must call settle; the others wait.
func (f *filterState) acquire(ctx context.Context) (v filterVerdict, probe bool, err error) {
	for {
		f.mu.Lock()
		if f.verdict != filterUnknown {
			v = f.verdict
			f.mu.Unlock()
			return v, false, nil
		}
		if !f.probing {
			f.probing = true
			f.mu.Unlock()
			return filterUnknown, true, nil
		}
		ch := f.changed
		f.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return filterUnknown, false, ctx.Err()
		}
	}
}

// settle records what an export showed and ends a probe. It reports whether
// the filter just became unusable.
func (f *filterState) settle(seen filterVerdict, probe bool) (unusable bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	changed := probe
	if probe {
		f.probing = false
	}
	switch {
	case seen == filterUnusable && f.verdict != filterUnusable:
		f.verdict, changed, unusable = filterUnusable, true, true
	case seen == filterApplied && f.verdict == filterUnknown:
		f.verdict, changed = filterApplied, true
	}
	if changed {
		close(f.changed)
		f.changed = make(chan struct{})
	}
	return unusable
}

// filterable reports whether the subject can be exported with the email
// filter: every profile has an email.
func (s *subject) filterable() bool {
	if len(s.emails) == 0 {
		return false
	}
	for _, p := range s.profiles {
		if p.Email == "" {
			return false
		}
	}
	return true
}

// exportFiltered exports one event name for one subject with CleverTap's
// profile filter, once per email of the subject, into a part per email,
// and reports what it saw of the filter. If the filter is seen ignored
// (records of other emails come back), the export was in fact a full
// scan: its part is complete on its own. On an error nothing it wrote is
// left.
func (r *Runner) exportFiltered(ctx context.Context, job *accessJob, n need) ([]heldPart, filterVerdict, error) {
	end, ok := r.zone.begin(ctx.Done())
	if !ok {
		return nil, filterUnknown, ctx.Err()
	}
	defer end()
	s := job.s
	var done []*partWriter
	seen := filterUnknown
	zt := r.zone.tally(s, n.name)
	for _, email := range slices.Sorted(maps.Keys(s.emails)) {
		w := newPartWriter(job, n.name)
		ignored, records := false, 0
		q := clevertap.EventQuery{EventName: n.name, From: n.from, To: n.to, BatchSize: r.cfg.EventBatchSize, FilterEmail: email}
		for page, err := range r.api.Events(ctx, q) {
			if err == nil {
				for i := range page {
					rec := &page[i]
					records++
					if rec.Email != "" && normEmail(rec.Email) != email {
						ignored = true
					}
					if s.owns(rec) {
						at := r.eventTime(rec)
						zt.see(rec, at)
						if job.within(n.name, rec, at) {
							w.add(toEvent(n.name, rec, at))
						}
					}
				}
				err = r.writePages(ctx, w)
			}
			if err != nil {
				r.dropWriters(ctx, append(done, w)...)
				return nil, seen, err
			}
		}
		if ignored { // an unfiltered scan: complete on its own
			r.dropWriters(ctx, done...)
			done = []*partWriter{w}
			seen = filterUnusable
			break
		}
		if records > 0 {
			seen = filterApplied
		}
		done = append(done, w)
	}
	if err := zt.settle(); err != nil {
		r.dropWriters(ctx, done...)
		return nil, seen, err
	}
	return heldParts(done), seen, nil
}

// exportUnfiltered exports one event name over n's days for one subject
// without the profile filter (every user's records) and writes the
// subject's into a part. On an error nothing it wrote is left.
func (r *Runner) exportUnfiltered(ctx context.Context, job *accessJob, n need) ([]heldPart, error) {
	end, ok := r.zone.begin(ctx.Done())
	if !ok {
		return nil, ctx.Err()
	}
	defer end()
	w := newPartWriter(job, n.name)
	zt := r.zone.tally(job.s, n.name)
	q := clevertap.EventQuery{EventName: n.name, From: n.from, To: n.to, BatchSize: r.cfg.EventBatchSize}
	for page, err := range r.api.Events(ctx, q) {
		if err == nil {
			for i := range page {
				if rec := &page[i]; job.s.owns(rec) {
					at := r.eventTime(rec)
					zt.see(rec, at)
					if job.within(n.name, rec, at) {
						w.add(toEvent(n.name, rec, at))
					}
				}
			}
			err = r.writePages(ctx, w)
		}
		if err != nil {
			r.dropWriters(ctx, w)
			return nil, err
		}
	}
	if err := zt.settle(); err != nil {
		r.dropWriters(ctx, w)
		return nil, err
	}
	return heldParts([]*partWriter{w}), nil
}

// heldParts returns what the writers wrote, as parts that replace nothing.
func heldParts(ws []*partWriter) []heldPart {
	out := make([]heldPart, len(ws))
	for i, w := range ws {
		out[i] = w.held()
	}
	return out
}

// cannotExport records that CleverTap refuses to export event name n.name
// even without a filter (an "Invalid event" it lists in the summaries all
// the same): the jobs hold the name as examined with no events, their
// requests' details say so, and so does the run's summary. It is not a
// failure of the requests, and the name is not asked for again this run.
func (r *Runner) cannotExport(ctx context.Context, jobs []*accessJob, n need, cause error) error {
	msg := "refused"
	var api *clevertap.APIError
	if errors.As(cause, &api) && api.Message != "" {
		msg = api.Message
	}
	r.mu.Lock()
	if r.unexportable == nil {
		r.unexportable = map[string]string{}
	}
	r.unexportable[n.name] = msg
	r.mu.Unlock()
	r.log.Warn("CleverTap refuses to export an event name; the requests note it", "event", n.name, "reason", msg, "requests", len(jobs))
	for _, job := range jobs {
		r.dropParts(ctx, job.refuse(n, msg))
	}
	return r.saveCovered(ctx, n.name, jobs)
}

// Unexportable returns the event names CleverTap refused to export during
// the run, with its reason, for the run's summary.
func (r *Runner) Unexportable() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return maps.Clone(r.unexportable)
}

// refuse records that the name cannot be exported: its days count as
// examined, with no events. It returns the parts replaced, for the caller
// to drop.
func (j *accessJob) refuse(n need, msg string) (replaced []PartID) {
	replaced = j.setExport(n, nil)
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.refused == nil {
		j.refused = map[string]string{}
	}
	j.refused[n.name] = msg
	return replaced
}

// eventTime is the instant of an exported record: its ts read in the
// account's timezone (Config.Location), whatever zone the client assumed.
func (r *Runner) eventTime(rec *clevertap.EventRecord) time.Time {
	if t, err := clevertap.TSTime(rec.TS, r.cfg.Location); err == nil {
		return t
	}
	return rec.Time.UTC()
}

func toEvent(name string, rec *clevertap.EventRecord, at time.Time) Event {
	return Event{
		ObjectID:         rec.ObjectID,
		Identity:         rec.Identity,
		Email:            rec.Email,
		EventName:        name,
		Time:             at.UTC(),
		EventPropsJSON:   rawJSON(rec.EventProps, "{}"),
		SessionPropsJSON: rawJSON(rec.SessionProps, "{}"),
	}
}

// park queues needs for the shared scans of their event names.
func (r *Runner) park(job *accessJob, needs []need) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range needs {
		r.parked[n.name] = append(r.parked[n.name], &parkedNeed{job: job, need: n})
	}
}

// finishAccess completes an access request whose names are all exported,
// flagging any name whose count differs from CleverTap's own summary.
func (r *Runner) finishAccess(ctx context.Context, job *accessJob) error {
	job.mu.Lock()
	var diffs, refused []string
	for _, name := range slices.Sorted(maps.Keys(job.expected)) {
		if msg, ok := job.refused[name]; ok {
			refused = append(refused, fmt.Sprintf("%s (%s)", name, msg))
			continue
		}
		if got, want := job.got[name], job.expected[name]; got != want {
			diffs = append(diffs, fmt.Sprintf("%s %d of %d", name, got, want))
		}
	}
	job.mu.Unlock()
	detail := fmt.Sprintf("%d profile(s)", len(job.s.profiles))
	if len(diffs) > 0 {
		detail += "; events exported differ from CleverTap's summary count: " + strings.Join(diffs, ", ")
	}
	if len(refused) > 0 {
		detail += "; CleverTap refuses to export event(s) " + strings.Join(refused, ", ") + ": not in the bundle"
	}
	if len(job.s.conflicts) > 0 { // --on-conflict union
		detail += "; exported despite contradictions (--on-conflict union): " + describe(job.s.conflicts)
	}
	return r.finish(ctx, job.w.ID, StatusDone, detail)
}
