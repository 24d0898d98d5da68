package ctsim

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestEventsPaging(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	cursor := ts.open(t, "events", "?batch_size=2", cqlBody("App Launched"))
	if len(cursor) < 100 || !strings.Contains(cursor, "%2F") || !strings.Contains(cursor, "%3D") {
		t.Errorf("cursor %q is not a long percent-encoded token", cursor)
	}
	pages := ts.pages(t, "events", cursor)
	if len(pages) != 2 {
		t.Fatalf("got %d pages, want 2", len(pages))
	}
	want := []string{bobA + "@20260106080000", adaIOS + "@20260106100000", adaWeb + "@20260107110000", bobB + "@20260109080000"}
	if got := eventKeys(records(pages)); !slices.Equal(got, want) {
		t.Errorf("events = %v\nwant %v", got, want)
	}
	first, last := pages[0].body, pages[1].body
	if _, ok := first["previous_cursor"]; ok {
		t.Errorf("first page has a previous_cursor")
	}
	if next := first["next_cursor"].(string); next == cursor || !strings.Contains(next, "%2F") {
		t.Errorf("next_cursor %q: want a new percent-encoded cursor", next)
	}
	if last["previous_cursor"] != cursor {
		t.Errorf("second page previous_cursor = %v, want the first cursor", last["previous_cursor"])
	}
	if _, ok := last["next_cursor"]; ok {
		t.Errorf("last page has a next_cursor: %v", last)
	}
	// Replaying a cursor answers the same page, with the same next cursor.
	again := ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil)
	if again.raw != pages[0].raw {
		t.Errorf("replayed page differs:\n%s\n%s", again.raw, pages[0].raw)
	}
	// POST with ?cursor= works too (several clients use it).
	post := ts.do(t, "POST", "/1/events.json?cursor="+cursor, nil)
	if post.raw != pages[0].raw {
		t.Errorf("POST page differs:\n%s\n%s", post.raw, pages[0].raw)
	}
}

func TestCursorMisuse(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	cursor := ts.open(t, "events", "?batch_size=1", cqlBody("App Launched"))
	decoded, err := url.QueryUnescape(cursor)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, sent, msg string
	}{
		{"decoded", decoded, "Incorrect Usage"},
		{"path-escaped decoded", url.PathEscape(decoded), "Incorrect Usage"},
		{"encoded again", url.QueryEscape(cursor), "Incorrect Usage"},
		{"lower-case hex", strings.ReplaceAll(strings.ReplaceAll(cursor, "%2F", "%2f"), "%3D", "%3d"), "Incorrect Usage"},
		{"unknown", "bm90LWEtY3Vyc29y%3D", "Invalid cursor"},
		{"empty", "", "Invalid cursor"},
		{"truncated", cursor[:len(cursor)-6], "Invalid cursor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.sent == cursor {
				t.Fatalf("test sends the cursor unchanged")
			}
			ts.do(t, "GET", "/1/events.json?cursor="+tt.sent, nil).wantFail(t, http.StatusOK, 400, tt.msg)
		})
	}
	// An events cursor is unknown to profiles.json.
	ts.do(t, "GET", "/1/profiles.json?cursor="+cursor, nil).wantFail(t, http.StatusOK, 400, "Invalid cursor")
	// The intact cursor still works after all that.
	ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil).wantSuccess(t)
}

func TestNotReadyPages(t *testing.T) {
	for _, status := range []int{0, 200, 202} {
		ts := mustSim(t, nil, Options{NotReadyPages: 2, NotReadyHTTPStatus: status})
		want := max(status, 200)
		cursor := ts.open(t, "events", "?batch_size=2", cqlBody("App Launched"))
		for range 2 {
			ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil).wantFail(t, want, 2, "Request still in progress, please retry later")
		}
		r := ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil)
		r.wantSuccess(t)
		next := r.body["next_cursor"].(string)
		// Every cursor is not ready for its first fetches.
		ts.do(t, "GET", "/1/events.json?cursor="+next, nil).wantFail(t, want, 2, "")
	}
}

func TestCursorExpiry(t *testing.T) {
	t.Run("events idle", func(t *testing.T) {
		ts := mustSim(t, nil, Options{})
		cursor := ts.open(t, "events", "?batch_size=1", cqlBody("App Launched"))
		ts.Advance(59 * time.Minute)
		ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil).wantSuccess(t)
		ts.Advance(time.Hour)
		ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil).wantFail(t, 200, 400, "Invalid cursor")
	})
	t.Run("events lifetime", func(t *testing.T) {
		ts := mustSim(t, nil, Options{EventsCursorTTL: 2 * time.Hour})
		cursor := ts.open(t, "events", "?batch_size=1", cqlBody("App Launched"))
		for range 3 {
			ts.Advance(30 * time.Minute)
			ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil).wantSuccess(t)
		}
		ts.Advance(40 * time.Minute) // 2h10m after creation, 40m unused
		ts.do(t, "GET", "/1/events.json?cursor="+cursor, nil).wantFail(t, 200, 400, "Invalid cursor")
	})
	t.Run("profiles", func(t *testing.T) {
		ts := mustSim(t, nil, Options{})
		cursor := ts.open(t, "profiles", "", cqlBody("App Launched"))
		ts.Advance(95 * time.Hour)
		ts.do(t, "GET", "/1/profiles.json?cursor="+cursor, nil).wantSuccess(t)
		ts.Advance(time.Hour)
		ts.do(t, "GET", "/1/profiles.json?cursor="+cursor, nil).wantFail(t, 200, 400, "Invalid cursor")
	})
}
