package main

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// sharedEmailDataset holds one person with two CleverTap profiles sharing
// an email: the older one carries the identity and most of the history,
// the newer one (updated last, so profile.json?email= returns it) has no
// identity. Each has its own event names.
func sharedEmailDataset() *ctsim.Dataset {
	day := func(d int) time.Time { return time.Date(2025, 11, d, 12, 0, 0, 0, time.UTC) }
	return &ctsim.Dataset{
		Account: ctsim.Account{ID: ctsim.DemoAccountID, Passcodes: []string{ctsim.DemoPasscode}},
		Profiles: []ctsim.Profile{
			{Identity: "u-1", Email: "sam@example.com", Name: "Sam Old", CreatedAt: day(1), UpdatedAt: day(2),
				Devices: []ctsim.Device{{ObjectID: "__old", Platform: "Android"}}},
			{Email: "sam@example.com", Name: "Sam New", CreatedAt: day(10), UpdatedAt: day(20),
				Devices: []ctsim.Device{{ObjectID: "__new", Platform: "Android"}}},
			{Identity: "u-2", Email: "other@example.com", CreatedAt: day(1), UpdatedAt: day(1),
				Devices: []ctsim.Device{{ObjectID: "__other", Platform: "Web"}}},
		},
		Events: []ctsim.Event{
			{ObjectID: "__old", Name: "Charged", Time: day(3), EventProps: map[string]any{"Amount": 10}},
			{ObjectID: "__old", Name: "Charged", Time: day(25), EventProps: map[string]any{"Amount": 20}},
			{ObjectID: "__old", Name: "App Launched", Time: day(4)},
			{ObjectID: "__new", Name: "App Launched", Time: day(15)},
			{ObjectID: "__other", Name: "Charged", Time: day(5)},
		},
	}
}

// TestRunAccessSharedEmail: an access request for a person with two
// profiles sharing an email must bundle both profiles and every event of
// both (sim.Lookup(email) is the ground truth).
//
// by_user_id: the profile found by identity leads to its email.
// by_email: profile.json?email= returns only the last-updated profile, which
// has no identity; the older one (with the identity and most of the history)
// is found through the email-filtered exports, which look back a year before
// the known profile's first event, and then looked up by objectId.
func TestRunAccessSharedEmail(t *testing.T) {
	for _, tc := range []struct {
		name, email, identity string
	}{
		{"by_email", "sam@example.com", ""},
		{"by_user_id", "", "u-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sim := startSimServer(t, sharedEmailDataset(), ctsim.Options{})
			wantIDs, wantEvents := groundTruth(t, sim, "sam@example.com", "")
			dir := t.TempDir()
			mpath := writeManifestCSV(t, dir, []manifestRow{{"A-1", "access", tc.email, tc.identity, ""}})
			out := filepath.Join(dir, "out")
			if res := ctdsr(t, runArgs(sim, filepath.Join(dir, "ledger.db"), out, "--manifest", mpath)...); res.code != ExitOK {
				t.Fatalf("want exit 0\n%s", res)
			}
			o := readOutputs(t, out)
			var gotIDs, gotEvents []string
			for _, p := range o.Profiles {
				gotIDs = append(gotIDs, p.ObjectIDs...)
			}
			for _, e := range o.Events {
				gotEvents = append(gotEvents, eventKey(e.ObjectID, e.EventName, e.EventTime, e.EventPropsJSON, e.SessionPropsJSON))
			}
			slices.Sort(gotIDs)
			slices.Sort(wantIDs)
			slices.Sort(gotEvents)
			if !slices.Equal(gotIDs, wantIDs) {
				t.Errorf("access_profiles object_ids %v, want both profiles' %v", gotIDs, wantIDs)
			}
			if !slices.Equal(gotEvents, wantEvents) {
				t.Errorf("%d events exported, want %d\nmissing: %q", len(gotEvents), len(wantEvents), minus(wantEvents, gotEvents))
			}
		})
	}
}
