package ctsim

import (
	"fmt"
	"net/http"
	"slices"
	"testing"
	"time"
)

func TestDeleteValidation(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	many := make([]string, 101)
	for i := range many {
		many[i] = fmt.Sprintf("u-%d", i)
	}
	tests := []struct {
		name string
		body any
	}{
		{"both keys", map[string]any{"identity": "u-1", "guid": adaIOS}},
		{"neither key", map[string]any{"email": "ada@example.com"}},
		{"over 100 identities", map[string]any{"identity": many}},
		{"over 100 guids", map[string]any{"guid": many}},
		{"empty array", map[string]any{"identity": []string{}}},
		{"non-string element", map[string]any{"guid": []any{adaIOS, 42}}},
		{"number", map[string]any{"identity": 7}},
		{"null", map[string]any{"identity": nil}},
		{"invalid JSON", "{identity:"},
		{"array body", `["u-1"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts.do(t, "POST", "/1/delete/profiles.json", tt.body).wantFail(t, http.StatusBadRequest, 400, "")
		})
	}
	if got := ts.PendingDeletions(); len(got) != 0 {
		t.Errorf("invalid deletes marked %v", got)
	}
	if st := ts.Stats(); st.DeleteCalls != 0 || st.DeleteIDs != 0 || st.Calls["delete"] != int64(len(tests)) {
		t.Errorf("stats = %+v; want %d calls, no valid delete calls", st, len(tests))
	}
	// Exactly 100 is fine.
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": many[:100]}).wantSuccess(t)
	if st := ts.Stats(); st.DeleteCalls != 1 || st.DeleteIDs != 100 {
		t.Errorf("DeleteCalls, DeleteIDs = %d, %d; want 1, 100", st.DeleteCalls, st.DeleteIDs)
	}
}

func TestDeleteIsAsynchronous(t *testing.T) {
	tests := []struct {
		name       string
		opts       Options
		body       any
		delay      time.Duration
		keepEvents bool
	}{
		{"identity, default 48h", Options{}, map[string]any{"identity": "u-1"}, 48 * time.Hour, false},
		{"guid of second device", Options{DeletionDelay: 2 * time.Minute}, map[string]any{"guid": []string{adaWeb}}, 2 * time.Minute, false},
		{"events kept", Options{DeletionDelay: time.Hour, KeepEventsOnDelete: true}, map[string]any{"identity": []string{"u-1", "u-unknown"}}, time.Hour, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := mustSim(t, nil, tt.opts)
			ts.do(t, "POST", "/1/delete/profiles.json", tt.body).wantSuccess(t)

			// Before the delay: still there everywhere.
			if got := ts.PendingDeletions(); !slices.Equal(got, []string{adaIOS, adaWeb}) {
				t.Errorf("pending = %v", got)
			}
			ts.Advance(tt.delay - time.Second)
			ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).wantSuccess(t)
			if got := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).body["record"]; got == nil {
				t.Fatalf("profile gone before the deletion delay")
			}
			if n := len(records(ts.pages(t, "events", ts.open(t, "events", "", cqlBody("Charged"))))); n != 2 {
				t.Errorf("before the delay: %d Charged events, want 2", n)
			}

			// After it: gone, with its events unless kept.
			ts.Advance(time.Second)
			if r := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil); r.raw != `{"status":"success","record":null}` {
				t.Errorf("after the delay: %s", r.raw)
			}
			if r := ts.do(t, "GET", "/1/profile.json?objectId="+adaWeb, nil); r.body["record"] != nil {
				t.Errorf("after the delay, by objectId: %s", r.raw)
			}
			if got := ts.Lookup("ada@example.com", "u-1"); len(got) != 0 {
				t.Errorf("Lookup after the delay = %v", got)
			}
			if got := ts.PendingDeletions(); len(got) != 0 {
				t.Errorf("pending after the delay = %v", got)
			}
			wantEvents := 1 // Cy's
			if tt.keepEvents {
				wantEvents = 2
			}
			if n := len(records(ts.pages(t, "events", ts.open(t, "events", "", cqlBody("Charged"))))); n != wantEvents {
				t.Errorf("after the delay: %d Charged events, want %d", n, wantEvents)
			}
			if n := len(ts.EventsOf(adaIOS, adaWeb)); (n > 0) != tt.keepEvents {
				t.Errorf("EventsOf(Ada) has %d events, keep events %v", n, tt.keepEvents)
			}
			// Others are untouched.
			ts.do(t, "GET", "/1/profile.json?identity=u-2", nil).record(t)
		})
	}
}

func TestDeleteIdempotent(t *testing.T) {
	ts := mustSim(t, nil, Options{DeletionDelay: 10 * time.Hour})
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-2"}).wantSuccess(t)
	ts.Advance(5 * time.Hour)
	// Again, by guid this time: the first deletion time stands.
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"guid": bobA}).wantSuccess(t)
	ts.Advance(5 * time.Hour)
	if got := ts.Lookup("", "u-2"); len(got) != 0 {
		t.Errorf("u-2 still there 10h after the first delete: %v", got)
	}
	// Deleting what is gone, or never was, still succeeds.
	for _, body := range []any{map[string]any{"identity": "u-2"}, map[string]any{"guid": "df2e224d90874887b4d61153ef3a2508"}} {
		ts.do(t, "POST", "/1/delete/profiles.json", body).wantSuccess(t)
	}
	// The orphan sharing Bob's email is a separate profile and stays.
	if got := ts.Lookup("bob@example.com", ""); len(got) != 1 || got[0].Devices[0].ObjectID != bobB {
		t.Errorf("Lookup(bob) = %v, want only the orphan", got)
	}
}

func TestRecreate(t *testing.T) {
	ts := mustSim(t, nil, Options{NoDeletionDelay: true})
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-1"}).wantSuccess(t)
	id := ts.Recreate("u-1", "ada@example.com")
	if id == adaIOS || id == adaWeb || id == "" {
		t.Fatalf("Recreate reused or lacked an objectId: %q", id)
	}
	rec := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).record(t)
	if got := objectIDs(rec); !slices.Equal(got, []string{id}) {
		t.Errorf("recreated profile objectIds = %v, want [%s]", got, id)
	}
	if ev := rec["events"].(map[string]any)["App Launched"].(map[string]any); ev["count"] != 1.0 || ev["first_seen"] != float64(t0.Unix()) {
		t.Errorf("recreated profile events = %v", ev)
	}
	if got := ts.EventsOf(id); len(got) != 1 || !got[0].Time.Equal(t0) {
		t.Errorf("EventsOf(new) = %v", got)
	}
}

func TestDemerge(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	ts.do(t, "POST", "/1/demerge/profiles.json", map[string]any{"identities": []string{"u-1"}}).wantSuccess(t)
	for _, body := range []any{
		map[string]any{"identities": "u-1"},
		map[string]any{"identities": []string{}},
		map[string]any{"identity": []string{"u-1"}},
		map[string]any{"identities": make([]string, 101)},
	} {
		ts.do(t, "POST", "/1/demerge/profiles.json", body).wantFail(t, http.StatusBadRequest, 400, "")
	}
}
