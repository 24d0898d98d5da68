package batch_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

func TestDryRun(t *testing.T) {
	ds := dataset(12)
	h := newHarness(t, ds, ctsim.Options{NoDeletionDelay: true})
	p := newPicker(ds).pick(t, withIdentity)
	reqs := []batch.Request{
		{ID: "a", Type: batch.Access, Email: strings.ToLower(p.Email)},
		{ID: "d", Type: batch.Deletion, UserID: p.Identity},
		{ID: "n", Type: batch.Deletion, Email: "nobody@example.invalid"},
	}
	cfg := batch.DefaultConfig()
	cfg.Workers = 4
	res, err := batch.DryRun(t.Context(), h.api, reqs, cfg)
	if err != nil {
		t.Fatalf("DryRun: %v", err)
	}
	_, events := truth(h.sim, reqs[0])
	want := []batch.DryRunMatch{
		{RequestID: "a", Type: batch.Access, Profiles: 1, ObjectIDs: len(p.Devices), Events: int64(len(events))},
		{RequestID: "d", Type: batch.Deletion, Profiles: 1, ObjectIDs: len(p.Devices), Events: int64(len(events))},
		{RequestID: "n", Type: batch.Deletion},
	}
	for i, w := range want {
		got := res.Matches[i]
		got.EventNames = 0
		if got != w {
			t.Errorf("match %d: got %+v, want %+v", i, got, w)
		}
	}
	if st := h.sim.Stats(); st.DeleteCalls != 0 || st.Calls["events"] != 0 {
		t.Errorf("a dry run made %d delete calls and %d event calls, want none", st.DeleteCalls, st.Calls["events"])
	}
	if res.Calls["delete"] != 2 || res.Calls["events"] == 0 || res.Projection(2, map[string]time.Duration{"events": time.Second}) <= 0 {
		t.Errorf("projection %v: want 2 delete calls (guids, identities), some event calls and a positive time", res.Calls)
	}
	if ps := h.sim.Lookup(p.Email, p.Identity); len(ps) == 0 {
		t.Error("a dry run deleted the subject")
	}

	bad := mustClient(t, h.srv.URL, "wrong-passcode")
	if _, err := batch.DryRun(t.Context(), bad, reqs, cfg); !errors.Is(err, batch.ErrFatal) || !errors.Is(err, clevertap.ErrUnauthorized) {
		t.Errorf("DryRun with bad credentials: %v; want ErrFatal", err)
	}
}

// The projection's schedule: the busiest group sets the pace; exports and
// deletes wait for the lookups every worker starts with, served k at a
// time; and a worker makes its request's lookups and exports one after
// another, so few workers set the pace themselves.
func TestProjectionSchedule(t *testing.T) {
	const s = time.Second
	lat := map[string]time.Duration{batch.GroupProfile: s, batch.GroupEvents: s, batch.GroupDelete: s}
	for _, c := range []struct {
		name string
		res  batch.DryRunResult
		k    int
		want time.Duration
	}{
		// 16 starters at k=2: 8 rounds of first lookups, then the first
		// subject's second: exports begin at 9 s and take 100/2 s.
		{"lead of 16 starters", batch.DryRunResult{Calls: map[string]int64{"profile": 40, "events": 100},
			Starters: 16, FirstLookups: 2}, 2, 9*s + 50*s},
		// One starter with one lookup: exports begin after it.
		{"one starter", batch.DryRunResult{Calls: map[string]int64{"profile": 1, "events": 4},
			Starters: 1, FirstLookups: 1}, 4, 1*s + 4*s},
		// Lookups alone: they start at once.
		{"lookups only", batch.DryRunResult{Calls: map[string]int64{"profile": 30},
			Starters: 16, FirstLookups: 2}, 3, 10 * s},
		// Two workers at k=3: each makes its calls one after another, so
		// 20 lookups and 100 exports take 120/2 s, more than the groups'.
		{"two workers", batch.DryRunResult{Calls: map[string]int64{"profile": 20, "events": 100, "delete": 1},
			Starters: 2, FirstLookups: 2}, 3, 60 * s},
		// Deletes wait for the lead as exports do.
		{"deletes", batch.DryRunResult{Calls: map[string]int64{"profile": 4, "delete": 20},
			Starters: 4, FirstLookups: 1}, 4, 1*s + 5*s},
	} {
		if got := c.res.Projection(c.k, lat); got != c.want {
			t.Errorf("%s: Projection(%d) = %v, want %v", c.name, c.k, got, c.want)
		}
	}
	res, err := batch.DryRun(t.Context(), nil, nil, batch.DefaultConfig())
	if err != nil || res.Starters != 0 || res.Projection(2, lat) != 0 {
		t.Errorf("DryRun of nothing = %+v, %v; want no starters and no time", res, err)
	}
}
