package ctsim

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestGenerateDeterministic(t *testing.T) {
	g := GenOptions{Seed: 42, Profiles: 50, EventsPerProfile: 5, SharedEmailEvery: 10}
	a, b := mustJSON(t, Generate(g)), mustJSON(t, Generate(g))
	if a != b {
		t.Fatal("same options, different datasets")
	}
	g.Seed = 43
	if mustJSON(t, Generate(g)) == a {
		t.Fatal("seeds 42 and 43 gave the same dataset")
	}
}

var objectIDFormats = map[string]*regexp.Regexp{
	"iOS":     regexp.MustCompile(`^(-[0-9a-f]{32}|-g[0-9A-F]{32})$`),
	"Android": regexp.MustCompile(`^(__[0-9a-f]{32}|__g[0-9a-f]{32})$`),
	"Web":     regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`),
}

func TestGenerateRealistic(t *testing.T) {
	start := time.Date(2025, 11, 1, 0, 0, 0, 0, time.UTC)
	end := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ds := Generate(GenOptions{Seed: 1, Profiles: 200, EventsPerProfile: 8, EventNames: []string{"A", "B"}, Start: start, End: end, SharedEmailEvery: 20})
	if len(ds.Profiles) != 200 {
		t.Fatalf("%d profiles", len(ds.Profiles))
	}
	noIdentity, shared := 0, 0
	identity := regexp.MustCompile(`^u-\d{6}$`)
	for i, p := range ds.Profiles {
		if p.Identity == "" {
			noIdentity++
		} else if !identity.MatchString(p.Identity) {
			t.Errorf("identity %q", p.Identity)
		}
		if !strings.Contains(p.Email, "@example.") || p.Name == "" {
			t.Errorf("profile %d: email %q, name %q", i, p.Email, p.Name)
		}
		if n := len(p.Devices); n < 1 || n > 3 {
			t.Errorf("profile %d has %d devices", i, n)
		}
		for _, d := range p.Devices {
			if re := objectIDFormats[d.Platform]; re == nil || !re.MatchString(d.ObjectID) {
				t.Errorf("device %s objectId %q has no CleverTap format", d.Platform, d.ObjectID)
			}
		}
		if (i+1)%20 == 0 {
			if p.Email != ds.Profiles[i-1].Email || p.Identity != "" {
				t.Errorf("profile %d should be an orphan sharing %q: %+v", i+1, ds.Profiles[i-1].Email, p)
			}
			shared++
		}
	}
	if noIdentity < shared || noIdentity > 80 {
		t.Errorf("%d of 200 profiles without identity", noIdentity)
	}
	names := map[string]int{}
	for i, e := range ds.Events {
		names[e.Name]++
		if e.Time.Before(start) || !e.Time.Before(end) {
			t.Errorf("event at %v outside the range", e.Time)
		}
		if i > 0 && e.Time.Before(ds.Events[i-1].Time) {
			t.Errorf("events not ordered by time at %d", i)
		}
	}
	if len(names) != 2 || len(ds.Events) < 200*4 || len(ds.Events) > 200*12 {
		t.Errorf("event names %v, %d events", names, len(ds.Events))
	}
	// A generated dataset loads, and survives a JSON round trip.
	var back Dataset
	if err := json.Unmarshal([]byte(mustJSON(t, ds)), &back); err != nil {
		t.Fatal(err)
	}
	if _, err := New(&back, Options{}); err != nil {
		t.Fatalf("New(generated): %v", err)
	}
}
