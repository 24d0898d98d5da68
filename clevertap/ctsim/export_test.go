package ctsim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cqlBody is a step-1 body for event name over January 2026.
func cqlBody(event string) map[string]any {
	return map[string]any{"event_name": event, "from": 20260101, "to": 20260131}
}

// open runs step 1 and returns the cursor.
func (ts *testSim) open(tb testing.TB, kind, params string, body any) string {
	tb.Helper()
	r := ts.do(tb, "POST", "/1/"+kind+".json"+params, body)
	r.wantSuccess(tb)
	c, ok := r.body["cursor"].(string)
	if !ok || c == "" {
		tb.Fatalf("no cursor in %s", r.raw)
	}
	return c
}

// pages fetches every page from cursor on, following next_cursor.
func (ts *testSim) pages(tb testing.TB, kind, cursor string) []reply {
	tb.Helper()
	var out []reply
	for cursor != "" {
		if len(out) > 1000 {
			tb.Fatal("more than 1000 pages")
		}
		r := ts.do(tb, "GET", "/1/"+kind+".json?cursor="+cursor, nil)
		r.wantSuccess(tb)
		out = append(out, r)
		cursor, _ = r.body["next_cursor"].(string)
	}
	return out
}

// records returns the records of all pages.
func records(pages []reply) []map[string]any {
	var out []map[string]any
	for _, p := range pages {
		recs, _ := p.body["records"].([]any)
		for _, r := range recs {
			out = append(out, r.(map[string]any))
		}
	}
	return out
}

// eventKeys renders event records as "objectId@ts" for comparison.
func eventKeys(recs []map[string]any) []string {
	var out []string
	for _, r := range recs {
		p := r["profile"].(map[string]any)
		out = append(out, p["objectId"].(string)+"@"+formatTS(r["ts"].(float64)))
	}
	return out
}

func formatTS(f float64) string { return strconv.FormatInt(int64(f), 10) }

func TestEventRecordShape(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	recs := records(ts.pages(t, "events", ts.open(t, "events", "", cqlBody("Charged"))))
	if len(recs) != 2 {
		t.Fatalf("got %d records, want 2", len(recs))
	}
	r := recs[0]
	p := r["profile"].(map[string]any)
	if p["objectId"] != adaIOS || p["platform"] != "iOS" || p["identity"] != "u-1" || p["email"] != "Ada@Example.com" || p["id"] != 1.0 {
		t.Errorf("profile = %v", p)
	}
	if p["profileData"].(map[string]any)["City"] != "Lisbon" {
		t.Errorf("profileData missing with profile=true by default: %v", p)
	}
	if _, ok := p["events"].(map[string]any)["Charged"]; !ok {
		t.Errorf("events summary missing with events=true by default: %v", p)
	}
	if _, ok := p["make"]; ok {
		t.Errorf("app fields present without app=true: %v", p)
	}
	if r["ts"] != 20260108120000.0 || r["event_props"].(map[string]any)["Amount"] != 12.5 {
		t.Errorf("ts, event_props = %v, %v", r["ts"], r["event_props"])
	}
	if _, ok := r["session_props"].(map[string]any); !ok {
		t.Errorf("session_props missing: %v", r)
	}
}

func TestEventRecordFlags(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	recs := records(ts.pages(t, "events", ts.open(t, "events", "?app=true&events=false&profile=false", cqlBody("Charged"))))
	p := recs[0]["profile"].(map[string]any)
	if p["make"] != "Apple" || p["model"] != "iPhone 15" || p["os_version"] != "17.2" {
		t.Errorf("app=true: device fields missing: %v", p)
	}
	if _, ok := p["events"]; ok {
		t.Errorf("events=false: summary present: %v", p)
	}
	if _, ok := p["profileData"]; ok {
		t.Errorf("profile=false: profileData present: %v", p)
	}
	ts.do(t, "POST", "/1/events.json?app=maybe", cqlBody("Charged")).wantFail(t, 400, 400, "")
}

func TestEventsTimestampInAccountTimezone(t *testing.T) {
	ds := fixture()
	ds.Account.Timezone = "Asia/Kolkata" // UTC+05:30
	ts := mustSim(t, ds, Options{})
	// Cy's Charged at 2026-01-09T23:00Z is 2026-01-10 04:30 in Kolkata, so
	// a one-day query for the 10th finds it and one for the 9th does not.
	for _, tt := range []struct {
		day  int
		want []string
	}{{20260110, []string{cyWeb + "@20260110043000"}}, {20260109, nil}} {
		body := map[string]any{"event_name": "Charged", "from": tt.day, "to": tt.day}
		recs := records(ts.pages(t, "events", ts.open(t, "events", "", body)))
		var got []string
		for _, k := range eventKeys(recs) {
			if strings.HasPrefix(k, cyWeb) {
				got = append(got, k)
			}
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("day %d: got %v, want %v", tt.day, got, tt.want)
		}
	}
}

func TestEventsEmptyRange(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	body := map[string]any{"event_name": "App Launched", "from": 20250101, "to": 20250131}
	r := ts.do(t, "GET", "/1/events.json?cursor="+ts.open(t, "events", "", body), nil)
	if r.status != 200 || r.raw != `{"status":"success"}` {
		t.Errorf("empty range page = HTTP %d %s, want 200 {\"status\":\"success\"}", r.status, r.raw)
	}
}

func TestSnapshotFrozen(t *testing.T) {
	ts := mustSim(t, nil, Options{NoDeletionDelay: true})
	cursor := ts.open(t, "events", "?batch_size=1", cqlBody("App Launched"))
	ts.AddEvent(Event{ObjectID: cyWeb, Name: "App Launched", Time: time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)})
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-2"}).wantSuccess(t)
	if got := ts.Lookup("", "u-2"); len(got) != 0 {
		t.Fatalf("u-2 not deleted at once with NoDeletionDelay: %v", got)
	}
	want := []string{bobA + "@20260106080000", adaIOS + "@20260106100000", adaWeb + "@20260107110000", bobB + "@20260109080000"}
	if got := eventKeys(records(ts.pages(t, "events", cursor))); !slices.Equal(got, want) {
		t.Errorf("snapshot changed: got %v\nwant %v", got, want)
	}
	// A new query sees the change.
	want = []string{cyWeb + "@20260102000000", adaIOS + "@20260106100000", adaWeb + "@20260107110000", bobB + "@20260109080000"}
	if got := eventKeys(records(ts.pages(t, "events", ts.open(t, "events", "", cqlBody("App Launched"))))); !slices.Equal(got, want) {
		t.Errorf("new query: got %v\nwant %v", got, want)
	}
}

func TestProfileFilterModes(t *testing.T) {
	body := cqlBody("App Launched")
	body["common_profile_properties"] = map[string]any{
		"profile_fields": []any{map[string]any{"name": "Email", "operator": "equals", "value": "BOB@EXAMPLE.COM"}},
	}
	tests := []struct {
		mode string
		want []string // objectIds in the export; nil: rejected
	}{
		{"", []string{bobA, bobB}},
		{"apply", []string{bobA, bobB}},
		{"ignore", []string{bobA, adaIOS, adaWeb, bobB}},
		{"reject", nil},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			ts := mustSim(t, nil, Options{ProfileFilter: tt.mode})
			if tt.want == nil {
				ts.do(t, "POST", "/1/events.json", body).wantFail(t, http.StatusOK, 400, "")
				// Without the filter the query is fine.
				ts.open(t, "events", "", cqlBody("App Launched"))
				return
			}
			var got []string
			for _, k := range eventKeys(records(ts.pages(t, "events", ts.open(t, "events", "", body)))) {
				got = append(got, strings.Split(k, "@")[0])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestPropertyFilters(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	f := func(name, op string, v any) []any {
		return []any{map[string]any{"name": name, "operator": op, "value": v}}
	}
	tests := []struct {
		name  string
		event string
		key   string
		fs    []any
		want  []string
	}{
		{"number greater_than", "Charged", "event_properties", f("Amount", "greater_than", 50), []string{cyWeb}},
		{"number less_than_equals", "Charged", "event_properties", f("Amount", "less_than_equals", 12.5), []string{adaIOS}},
		{"equals number", "Charged", "event_properties", f("Amount", "equals", 99), []string{cyWeb}},
		{"session equals", "App Launched", "session_properties", f("utm_source", "equals", "newsletter"), []string{adaWeb}},
		{"session exists", "App Launched", "session_properties", f("utm_source", "exists", nil), []string{adaWeb}},
		{"session does_not_exist", "App Launched", "session_properties", f("utm_source", "does_not_exist", nil), []string{bobA, adaIOS, bobB}},
		{"contains", "App Launched", "session_properties", f("utm_source", "contains", "news"), []string{adaWeb}},
		{"not_equals", "App Launched", "session_properties", f("utm_source", "not_equals", "newsletter"), []string{bobA, adaIOS, bobB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := cqlBody(tt.event)
			body[tt.key] = tt.fs
			var got []string
			for _, k := range eventKeys(records(ts.pages(t, "events", ts.open(t, "events", "", body)))) {
				got = append(got, strings.Split(k, "@")[0])
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestStepOneValidation(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	tests := []struct {
		name   string
		params string
		body   any
	}{
		{"invalid JSON", "", "{not json"},
		{"not an object", "", "[1,2]"},
		{"no event_name", "", map[string]any{"from": 20260101, "to": 20260131}},
		{"empty event_name", "", map[string]any{"event_name": "", "from": 20260101, "to": 20260131}},
		{"no from", "", map[string]any{"event_name": "Charged", "to": 20260131}},
		{"from as string", "", map[string]any{"event_name": "Charged", "from": "20260101", "to": 20260131}},
		{"impossible date", "", map[string]any{"event_name": "Charged", "from": 20260230, "to": 20260301}},
		{"from after to", "", map[string]any{"event_name": "Charged", "from": 20260201, "to": 20260101}},
		{"unknown operator", "", map[string]any{"event_name": "Charged", "from": 20260101, "to": 20260131,
			"event_properties": []any{map[string]any{"name": "Amount", "operator": "like", "value": 1}}}},
		{"batch_size zero", "?batch_size=0", cqlBody("Charged")},
		{"batch_size negative", "?batch_size=-5", cqlBody("Charged")},
		{"batch_size not a number", "?batch_size=ten", cqlBody("Charged")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, kind := range []string{"events", "profiles"} {
				ts.do(t, "POST", "/1/"+kind+".json"+tt.params, tt.body).wantFail(t, http.StatusBadRequest, 400, "")
			}
		})
	}
	ts.do(t, "GET", "/1/events.json", nil).wantFail(t, http.StatusBadRequest, 400, "")
}

func TestStrictEventNames(t *testing.T) {
	for _, strict := range []bool{false, true} {
		ts := mustSim(t, nil, Options{StrictEventNames: strict})
		r := ts.do(t, "POST", "/1/events.json", cqlBody("Uninstalled"))
		if strict {
			r.wantFail(t, http.StatusOK, 400, `["Invalid event : Uninstalled"]`)
		} else {
			r.wantSuccess(t)
		}
		ts.open(t, "events", "", cqlBody("Charged"))
	}
}

func TestBatchSize(t *testing.T) {
	// bulk returns the fixture plus n "Bulk" events.
	bulk := func(n int) *Dataset {
		ds := fixture()
		for i := range n {
			ds.Events = append(ds.Events, Event{ObjectID: cyWeb, Name: "Bulk", Time: t0.AddDate(0, 0, -3).Add(time.Duration(i) * time.Second)})
		}
		return ds
	}
	big, small := bulk(5100), bulk(50)
	tests := []struct {
		name   string
		ds     *Dataset
		opts   Options
		params string
		sizes  []int // page sizes; nil: rejected with 400
	}{
		{"over max clamps", big, Options{}, "?batch_size=50000", []int{5000, 100}},
		{"over max rejected", big, Options{BatchSizeOverMax: "reject400"}, "?batch_size=5001", nil},
		{"max accepted", big, Options{BatchSizeOverMax: "reject400"}, "?batch_size=5000", []int{5000, 100}},
		{"default 10", small, Options{}, "", []int{10, 10, 10, 10, 10}},
		{"default from option", small, Options{BatchSizeDefault: 20}, "", []int{20, 20, 10}},
		{"explicit", small, Options{}, "?batch_size=7", []int{7, 7, 7, 7, 7, 7, 7, 1}},
		{"quirk 23 rounds up", small, Options{PageQuirk23: true}, "?batch_size=5", []int{23, 23, 4}},
		{"quirk 23 keeps multiples", small, Options{PageQuirk23: true}, "?batch_size=46", []int{46, 4}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts := mustSim(t, tt.ds, tt.opts)
			body := cqlBody("Bulk")
			if tt.sizes == nil {
				ts.do(t, "POST", "/1/events.json"+tt.params, body).wantFail(t, http.StatusBadRequest, 400, "")
				return
			}
			var got []int
			for _, p := range ts.pages(t, "events", ts.open(t, "events", tt.params, body)) {
				got = append(got, len(p.body["records"].([]any)))
			}
			if !slices.Equal(got, tt.sizes) {
				t.Errorf("page sizes %v, want %v", got, tt.sizes)
			}
		})
	}
}

func TestProfilesExport(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	pages := ts.pages(t, "profiles", ts.open(t, "profiles", "?batch_size=2", cqlBody("App Launched")))
	recs := records(pages)
	if len(pages) != 2 || len(recs) != 3 {
		t.Fatalf("got %d pages, %d records; want 2 pages, 3 records (Ada, Bob, Bob's orphan)", len(pages), len(recs))
	}
	var got [][]string
	for _, r := range recs {
		got = append(got, objectIDs(r))
	}
	want := [][]string{{adaIOS, adaWeb}, {bobA}, {bobB}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Errorf("profiles %v, want %v", got, want)
	}
	// Same shape as profile.json's record.
	single := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).record(t)
	if a, b := mustJSON(t, recs[0]), mustJSON(t, single); a != b {
		t.Errorf("profiles.json record differs from profile.json:\n%s\n%s", a, b)
	}
	// The older GET ?query= style opens a cursor too.
	r := ts.do(t, "GET", "/1/profiles.json?batch_size=5&query="+url.QueryEscape(`{"event_name":"Charged","from":20260101,"to":20260131}`), nil)
	r.wantSuccess(t)
	if n := len(records(ts.pages(t, "profiles", r.body["cursor"].(string)))); n != 2 {
		t.Errorf("GET ?query= export has %d profiles, want 2", n)
	}
}
