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
	checkCursor(t, cursor, false)
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
	raw, err := url.QueryUnescape(cursor)
	if err != nil {
		t.Fatal(err)
	}
	if prev := last["previous_cursor"]; prev != raw || !strings.Contains(raw, "/") {
		t.Errorf("second page previous_cursor = %.40v…, want the first cursor raw (not percent-encoded)", prev)
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

// checkCursor checks a cursor has the real shape: base64 percent-encoded
// with %2B, %2F and %3D%3D at the end, and 1.5 to 2.4 KB long (about 150
// characters when short).
func checkCursor(tb testing.TB, c string, short bool) {
	tb.Helper()
	lo, hi := 1500, 2400
	if short {
		lo, hi = 140, 170
	}
	if len(c) < lo || len(c) > hi {
		tb.Errorf("cursor of %d bytes, want %d to %d", len(c), lo, hi)
	}
	for _, esc := range []string{"%2B", "%2F"} {
		if !strings.Contains(c, esc) {
			tb.Errorf("cursor lacks %s: %.60s…", esc, c)
		}
	}
	if !strings.HasSuffix(c, "%3D%3D") {
		tb.Errorf("cursor does not end in %%3D%%3D: …%s", c[max(0, len(c)-20):])
	}
	raw, err := url.QueryUnescape(c)
	if err != nil || url.QueryEscape(raw) != c || strings.ContainsAny(raw, "%") {
		tb.Errorf("cursor is not one percent-encoding of a base64 text (%v)", err)
	}
}

func TestCursorShapes(t *testing.T) {
	for _, short := range []bool{false, true} {
		ts := mustSim(t, nil, Options{ShortCursors: short})
		cursor := ts.open(t, "events", "?batch_size=1", cqlBody("App Launched"))
		checkCursor(t, cursor, short)
		seen := map[int]bool{}
		for _, p := range ts.pages(t, "events", cursor) {
			if next, ok := p.body["next_cursor"].(string); ok {
				checkCursor(t, next, short)
				seen[len(next)] = true
			}
		}
		if !short && len(seen) < 2 {
			t.Errorf("every real-sized cursor has the same length %v; real ones vary", seen)
		}
	}
}

func TestLastPageBare(t *testing.T) {
	for _, bare := range []bool{false, true} {
		ts := mustSim(t, nil, Options{LastPageBare: bare})
		pages := ts.pages(t, "events", ts.open(t, "events", "?batch_size=2", cqlBody("App Launched")))
		if len(pages) != 2 {
			t.Fatalf("%d pages, want 2", len(pages))
		}
		last := pages[1].body
		_, hasPrev := last["previous_cursor"]
		_, hasNext := last["next_cursor"]
		if hasNext || hasPrev == bare || len(last["records"].([]any)) != 2 {
			t.Errorf("LastPageBare %v: last page %s", bare, pages[1].raw[:min(len(pages[1].raw), 80)])
		}
		// A one-page export carries neither key either way.
		one := ts.pages(t, "events", ts.open(t, "events", "?batch_size=100", cqlBody("App Launched")))
		if _, ok := one[0].body["previous_cursor"]; ok || len(one) != 1 {
			t.Errorf("a one-page export: %d pages, %s", len(one), one[0].raw[:60])
		}
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
