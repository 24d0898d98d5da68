package batch_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// accessCase builds the access requests of TestAccessMatchesGroundTruth:
// by email, by user id, by both, unknown subjects, subjects whose email an
// orphan profile shares, and one subject without an email (which the
// profile filter cannot select).
func accessCase(tb testing.TB, orphans bool) (*ctsim.Dataset, []batch.Request) {
	ds := dataset(48)
	if !orphans {
		ds = ctsim.Generate(ctsim.GenOptions{Seed: 11, Profiles: 48, EventsPerProfile: 6,
			EventNames: []string{"App Launched", "Product Viewed", "Charged", "Notification Clicked"}})
	}
	// A logged-in user without an email: only a shared scan can find
	// their events, whatever the profile filter does.
	noEmail := ctsim.Profile{Identity: "u-noemail", Name: "No Email",
		Devices: []ctsim.Device{{ObjectID: "__noemail0001", Platform: "Android"}}, CreatedAt: ctsim.DefaultNow.Add(-60 * 24 * time.Hour)}
	ds.Profiles = append(ds.Profiles, noEmail)
	for i, name := range []string{"App Launched", "Charged", "App Launched"} {
		ds.Events = append(ds.Events, ctsim.Event{ObjectID: "__noemail0001", Name: name,
			Time: ctsim.DefaultNow.Add(-time.Duration(10+i*7) * 24 * time.Hour), EventProps: map[string]any{"n": i}})
	}

	pk := newPicker(ds)
	var reqs []batch.Request
	add := func(kind, email, id string) {
		reqs = append(reqs, batch.Request{ID: fmt.Sprintf("acc-%02d-%s", len(reqs), kind), Type: batch.Access,
			Email: strings.ToLower(email), UserID: id})
	}
	for range 2 {
		add("email", pk.pick(tb, any_).Email, "")
	}
	add("id", "", pk.pick(tb, withIdentity).Identity)
	p := pk.pick(tb, withIdentity)
	add("both", p.Email, p.Identity)
	if orphans {
		add("email-orphan", pk.pick(tb, pk.orphaned).Email, "")
		add("email-orphan", pk.pick(tb, pk.orphaned).Email, "")
		add("id-orphan", "", pk.pick(tb, pk.orphanedWithIdentity).Identity)
		p = pk.pick(tb, pk.orphanedWithIdentity)
		add("both-orphan", p.Email, p.Identity)
	}
	// Email of one person, user id of another: with --on-conflict union
	// the subject is the union (TestConflict covers review, the default).
	add("both-two-people", pk.pick(tb, pk.single).Email, pk.pick(tb, withIdentity).Identity)
	add("id-noemail", "", "u-noemail")
	add("unknown-email", "nobody@example.invalid", "")
	add("unknown-id", "", "u-999999")
	add("unknown-both", "ghost@example.invalid", "u-999998")
	return ds, reqs
}

// TestAccessMatchesGroundTruth runs access requests against the simulator
// in each profile-filter mode and checks every bundle against what the
// simulator holds: no event missing, extra or twice. It runs with
// --on-conflict union, under which a row naming two people is their union.
func TestAccessMatchesGroundTruth(t *testing.T) {
	for _, tc := range []struct {
		filter  string
		orphans bool
	}{
		{"apply", false}, {"ignore", false}, {"reject", false},
		{"apply", true}, {"ignore", true}, {"reject", true},
	} {
		t.Run(fmt.Sprintf("filter %s orphans %v", tc.filter, tc.orphans), func(t *testing.T) {
			t.Parallel()
			ds, reqs := accessCase(t, tc.orphans)
			h := newHarness(t, ds, ctsim.Options{ProfileFilter: tc.filter})
			h.store.Add(reqs...)
			h.mustRun(func(c *batch.Config, _ *batch.Deps) { c.OnConflict = batch.ConflictUnion })
			for _, req := range reqs {
				checkAccess(t, h, req)
			}
			h.noViolations()
			if tc.filter == "apply" {
				return
			}

			// The economy of shared scans: with the filter unusable, each
			// event name is scanned once per merged span of the subjects'
			// ranges, not once per subject; ignore mode also pays for the
			// one export that found the filter ignored. Orphans are found
			// only in what the first scans return, so the names and days
			// they add take one more round of scans.
			opens := h.wire.eventOpens.Load()
			spans, perSubject := scanBound(h.sim, reqs, h.zone)
			bound := spans
			if tc.orphans {
				bound = 2 * spans
			}
			if tc.filter != "apply" {
				// ignore: the one export that found the filter ignored;
				// reject: the same export asked again without the filter,
				// to tell a refused filter from a refused event name.
				bound++
			}
			t.Logf("%d event exports opened; merged spans %d; (subject, name) pairs %d", opens, spans, perSubject)
			if opens > int64(bound) {
				t.Errorf("%d event exports opened, want at most %d (event names × merged spans)", opens, bound)
			}
		})
	}
}

// scanBound returns the number of merged spans over every event name the
// subjects of reqs hold (the shared scans a run needs), and the number of
// (subject, name) pairs (what exporting per subject would cost).
func scanBound(sim *ctsim.Server, reqs []batch.Request, zone *time.Location) (spans, perSubject int) {
	type span struct{ from, to clevertap.Date }
	byName := map[string][]span{}
	today := clevertap.DateOf(sim.Now(), zone)
	for _, req := range reqs {
		_, events := truth(sim, req)
		first, last := map[string]time.Time{}, map[string]time.Time{}
		for _, e := range events {
			if f, ok := first[e.Name]; !ok || e.Time.Before(f) {
				first[e.Name] = e.Time
			}
			if l, ok := last[e.Name]; !ok || e.Time.After(l) {
				last[e.Name] = e.Time
			}
		}
		for name := range first {
			perSubject++
			to := min(clevertap.DateOf(last[name].Add(24*time.Hour), zone), today)
			byName[name] = append(byName[name], span{clevertap.DateOf(first[name].Add(-24*time.Hour), zone), to})
		}
	}
	for _, ss := range byName {
		// Count the connected components of overlapping or touching spans.
		for changed := true; changed; {
			changed = false
			for i := 0; i < len(ss) && !changed; i++ {
				for j := i + 1; j < len(ss); j++ {
					a, b := ss[i], ss[j]
					if dayAfter(a.to) >= b.from && dayAfter(b.to) >= a.from {
						ss[i] = span{min(a.from, b.from), max(a.to, b.to)}
						ss = append(ss[:j], ss[j+1:]...)
						changed = true
						break
					}
				}
			}
		}
		spans += len(ss)
	}
	return spans, perSubject
}

func dayAfter(d clevertap.Date) clevertap.Date {
	n := int(d)
	t := time.Date(n/10000, time.Month(n/100%100), n%100, 0, 0, 0, 0, time.UTC).AddDate(0, 0, 1)
	return clevertap.DateOf(t, time.UTC)
}

func TestAccessFlagsSummaryCountMismatch(t *testing.T) {
	ds := dataset(12)
	h := newHarness(t, ds, ctsim.Options{})
	p := newPicker(ds).pick(t, func(i int, p ctsim.Profile) bool { return p.Identity != "" && !hasOrphan(ds, i) })
	before := h.sim.EventsOf(simIDs(p)...)
	// An event stamped in the future (a device with a wrong clock): the
	// summary counts it, but exports end today.
	h.sim.AddEvent(ctsim.Event{ObjectID: p.Devices[0].ObjectID, Name: "Charged", Time: h.sim.Now().Add(72 * time.Hour)})
	charged := 1
	for _, e := range before {
		if e.Name == "Charged" {
			charged++
		}
	}
	req := batch.Request{ID: "acc-1", Type: batch.Access, UserID: p.Identity}
	h.store.Add(req)
	h.mustRun()

	rec, _ := h.store.Get(req.ID)
	want := fmt.Sprintf("events exported differ from CleverTap's summary count: Charged %d of %d", charged-1, charged)
	if rec.Status != batch.StatusDone || !strings.Contains(rec.Detail, want) {
		t.Errorf("status %s, detail %q; want done with %q", rec.Status, rec.Detail, want)
	}
	if d := diffEvents(h.store.Events(req.ID), before); len(d) > 0 {
		t.Errorf("exported events differ from what was there before the future event:\n  %s", strings.Join(d, "\n  "))
	}
	h.noViolations()
}
