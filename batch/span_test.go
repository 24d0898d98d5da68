package batch_test

import (
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// Exports ask for whole days with a day of slack either side, so they
// return records outside the subject's span of an event name: here, two
// the subject made after its profile was looked up, a minute before the
// summary's first and after its last event. They are left out by exact
// instant, as the summary's count leaves them out: the bundle holds what
// the summary announced and no count differs, whether the filter works
// (per-subject exports) or not (shared scans).
func TestEventsOutsideTheSummarySpanAreLeftOut(t *testing.T) {
	for _, filter := range []string{"apply", "ignore"} {
		t.Run(filter, func(t *testing.T) {
			ds := dataset(16)
			h := newHarness(t, ds, ctsim.Options{ProfileFilter: filter})
			p := newPicker(ds).pick(t, newPicker(ds).single)
			req := batch.Request{ID: "a1", Type: batch.Access, Email: strings.ToLower(p.Email), UserID: p.Identity}
			h.store.Add(req)

			_, before := truth(h.sim, req)
			name := before[0].Name
			var first, last time.Time
			for _, e := range before {
				if e.Name != name {
					continue
				}
				if first.IsZero() || e.Time.Before(first) {
					first = e.Time
				}
				if e.Time.After(last) {
					last = e.Time
				}
			}
			objectID := p.Devices[0].ObjectID
			var once sync.Once
			h.wire.onPath = func(path string) {
				if path == "/1/events.json" { // after the lookup, before the first export
					once.Do(func() {
						h.sim.AddEvent(ctsim.Event{ObjectID: objectID, Name: name, Time: first.Add(-time.Minute)})
						h.sim.AddEvent(ctsim.Event{ObjectID: objectID, Name: name, Time: last.Add(time.Minute)})
					})
				}
			}
			if err := h.run(t.Context()); err != nil {
				t.Fatalf("Run: %v", err)
			}
			h.noViolations()

			rec, _ := h.store.Get("a1")
			if rec.Status != batch.StatusDone || strings.Contains(rec.Detail, "differ") {
				t.Fatalf("status %s (%s), want done with no count difference", rec.Status, rec.Detail)
			}
			var got, want []string
			for _, e := range h.store.Events("a1") {
				got = append(got, e.EventName+"@"+e.Time.UTC().Format(time.RFC3339))
			}
			for _, e := range before {
				want = append(want, e.Name+"@"+e.Time.UTC().Format(time.RFC3339))
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("exported events:\n got %v\nwant %v (the two made after the lookup left out)", got, want)
			}
		})
	}
}
