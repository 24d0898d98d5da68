package clevertap

import (
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"testing"
	"time"
)

// cursorServer answers step 1 with the first cursor and serves pages keyed
// by the raw query, so a re-encoded cursor finds no page.
func cursorServer(first string, pages map[string]string) *recorder {
	return &recorder{fn: func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.Method == http.MethodPost {
			write(w, 200, `{ "status" : "success" , "cursor" : "`+first+`" }`)
			return
		}
		body, ok := pages[r.URL.RawQuery]
		if !ok {
			write(w, 200, `{"status":"fail","error":"Incorrect Usage","code":400}`)
			return
		}
		write(w, 200, body)
	}}
}

func TestEventsFollowsCursorsByteForByte(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	rec := cursorServer("ZXZ%2Fb25l%3D%3D+A", map[string]string{
		"cursor=ZXZ%2Fb25l%3D%3D+A": `{"status":"success","next_cursor":"cDI%2F%3D","records":[
			{"profile":{"objectId":"__a1","platform":"Android","email":"peter@foo.com","identity":5555,"phone":491,"profileData":{"c":"blue"},"id":33},
			 "ts":20260102093000,"event_props":{"value":"pizza"},"session_props":{"utm_source":"Foo"}}]}`,
		"cursor=cDI%2F%3D": `{"status":"success","previous_cursor":"x","next_cursor":"cDM%3D","records":[]}`,
		"cursor=cDM%3D": `{"status":"success","previous_cursor":"y","records":[
			{"objectId":"top-level-id","identity":"u2","profileData":{"k":1},"profile":{"platform":"Web"},"ts":"20260102000000"},
			{"profile":{"objectId":"__a1"},"ts":20260101235959}]}`,
	})
	c := setup(t, rec, WithTimezone(ist))
	recs, pages, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260102, BatchSize: 46})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	if pages != 2 || len(recs) != 3 {
		t.Fatalf("%d pages with %d records, want 2 non-empty pages with 3", pages, len(recs))
	}
	want0 := EventRecord{
		ObjectID: "__a1", Platform: "Android", Identity: "5555", Email: "peter@foo.com", Phone: "491",
		ProfileData: json.RawMessage(`{"c":"blue"}`), Time: time.Date(2026, 1, 2, 4, 0, 0, 0, time.UTC),
		TS: 20260102093000, EventProps: json.RawMessage(`{"value":"pizza"}`), SessionProps: json.RawMessage(`{"utm_source":"Foo"}`),
	}
	if !reflect.DeepEqual(recs[0], want0) {
		t.Errorf("record 0 =\n%+v\nwant\n%+v", recs[0], want0)
	}
	if r := recs[1]; r.ObjectID != "top-level-id" || r.Identity != "u2" || string(r.ProfileData) != `{"k":1}` ||
		!r.Time.Equal(time.Date(2026, 1, 1, 18, 30, 0, 0, time.UTC)) {
		t.Errorf("record 1 (top-level fields, string ts) = %+v", r)
	}
	if loc := recs[2].Time.Location(); loc != time.UTC {
		t.Errorf("Time is in %v, want UTC", loc)
	}

	got := rec.requests()
	if len(got) != 4 {
		t.Fatalf("%d requests, want step 1 and 3 pages", len(got))
	}
	if got[0].Method != "POST" || got[0].Path != "/1/events.json" || got[0].RawQuery != "batch_size=46&events=false&profile=true" {
		t.Errorf("step 1 was %s %s?%s", got[0].Method, got[0].Path, got[0].RawQuery)
	}
	var body map[string]any
	if err := json.Unmarshal([]byte(got[0].Body), &body); err != nil ||
		!reflect.DeepEqual(body, map[string]any{"event_name": "Charged", "from": 20260101.0, "to": 20260102.0}) {
		t.Errorf("step 1 body %s, want event_name, from, to and no filter", got[0].Body)
	}
	for _, r := range got[1:] {
		if r.Method != "GET" || r.ContentType != "" {
			t.Errorf("page request %s with Content-Type %q, want GET without", r.Method, r.ContentType)
		}
	}
}

func TestEventsFilterByEmail(t *testing.T) {
	rec := cursorServer("c1", map[string]string{"cursor=c1": `{"status":"success"}`})
	c := setup(t, rec)
	_, _, err := collect(t.Context(), c, EventQuery{EventName: "App Launched", From: 20251231, To: 20260101, FilterEmail: "a+b@x.com"})
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	r := rec.requests()[0]
	want := `{"event_name":"App Launched","from":20251231,"to":20260101,` +
		`"common_profile_properties":{"profile_fields":[{"name":"Email","operator":"equals","value":"a+b@x.com"}]}}`
	if r.Body != want || r.RawQuery != "batch_size=5000&events=false&profile=true" {
		t.Errorf("step 1 ?%s body\n%s\nwant ?batch_size=5000&events=false&profile=true body\n%s", r.RawQuery, r.Body, want)
	}
}

func TestEventsEmptyRangeEndsCleanly(t *testing.T) {
	rec := cursorServer("c1", map[string]string{"cursor=c1": `{ "status" : "success" }`})
	c := setup(t, rec)
	recs, pages, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260101})
	if err != nil || pages != 0 || len(recs) != 0 {
		t.Errorf("got %d pages, %d records, err %v; want nothing and no error", pages, len(recs), err)
	}
	if n := len(rec.requests()); n != 2 {
		t.Errorf("%d requests, want 2", n)
	}
}

func TestEventsStopsWhenTheCallerBreaks(t *testing.T) {
	rec := cursorServer("c1", map[string]string{
		"cursor=c1": `{"status":"success","next_cursor":"c2","records":[{"profile":{"objectId":"a"},"ts":20260101000000}]}`,
		"cursor=c2": `{"status":"success","records":[{"profile":{"objectId":"b"},"ts":20260101000000}]}`,
	})
	c := setup(t, rec)
	for page, err := range c.Events(t.Context(), EventQuery{EventName: "Charged", From: 20260101, To: 20260101}) {
		if err != nil || len(page) != 1 {
			t.Fatalf("first page %v, %v", page, err)
		}
		break
	}
	if n := len(rec.requests()); n != 2 {
		t.Errorf("%d requests after breaking on page 1, want 2", n)
	}
}

func TestEventsPageErrors(t *testing.T) {
	tests := []struct {
		name  string
		first string
		pages map[string]string
		want  error
	}{
		{"repeated cursor", "c1", map[string]string{"cursor=c1": `{"status":"success","next_cursor":"c1","records":[]}`}, ErrCursor},
		{"cursor with a space", "c 1", nil, ErrCursor},
		{"cursor with a fragment mark", "c#1", nil, ErrCursor},
		{"bad ts", "c1", map[string]string{"cursor=c1": `{"status":"success","records":[{"ts":20261399000000}]}`}, ErrServer},
		{"epoch ts", "c1", map[string]string{"cursor=c1": `{"status":"success","records":[{"ts":1767225600}]}`}, ErrServer},
		{"fractional ts", "c1", map[string]string{"cursor=c1": `{"status":"success","records":[{"ts":2.5}]}`}, ErrServer},
		{"no cursor from step 1", "", nil, ErrServer},
	}
	for _, tt := range tests {
		c := setup(t, cursorServer(tt.first, tt.pages))
		_, _, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260101})
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestEventQueryValidation(t *testing.T) {
	tests := []struct {
		name string
		q    EventQuery
	}{
		{"no event name", EventQuery{From: 20260101, To: 20260101}},
		{"impossible day", EventQuery{EventName: "e", From: 20260230, To: 20260301}},
		{"month 13", EventQuery{EventName: "e", From: 20261301, To: 20261302}},
		{"from after to", EventQuery{EventName: "e", From: 20260102, To: 20260101}},
		{"zero dates", EventQuery{EventName: "e"}},
		{"batch too big", EventQuery{EventName: "e", From: 20260101, To: 20260101, BatchSize: 5001}},
		{"negative batch", EventQuery{EventName: "e", From: 20260101, To: 20260101, BatchSize: -1}},
	}
	rec := cursorServer("c1", map[string]string{"cursor=c1": `{"status":"success"}`})
	c := setup(t, rec)
	for _, tt := range tests {
		if _, _, err := collect(t.Context(), c, tt.q); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err %v, want ErrInvalidRequest", tt.name, err)
		}
	}
	if n := len(rec.requests()); n != 0 {
		t.Errorf("%d requests sent for invalid queries", n)
	}
}

func TestDates(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	at := time.Date(2026, 1, 14, 20, 0, 0, 0, time.UTC)
	if got := DateOf(at, ist); got != 20260115 {
		t.Errorf("DateOf(%v, IST) = %d, want 20260115", at, got)
	}
	if got := DateOf(at, nil); got != 20260114 {
		t.Errorf("DateOf(%v, nil) = %d, want 20260114 (UTC)", at, got)
	}
	for d, want := range map[Date]bool{20260115: true, 20240229: true, 20250229: false, 20261301: false, 20260100: false, 0: false, -20260101: false, 100000101: false} {
		if d.Valid() != want {
			t.Errorf("Date(%d).Valid() = %v, want %v", d, !want, want)
		}
	}
	if s := Date(20260105).String(); s != "2026-01-05" {
		t.Errorf("String() = %q", s)
	}
}

func TestParseTS(t *testing.T) {
	ist := time.FixedZone("IST", 5*3600+1800)
	tests := []struct {
		ts   int64
		loc  *time.Location
		want time.Time
		ok   bool
	}{
		{20151023140416, time.UTC, time.Date(2015, 10, 23, 14, 4, 16, 0, time.UTC), true},
		{20260101000000, ist, time.Date(2025, 12, 31, 18, 30, 0, 0, time.UTC), true},
		{20260101240000, time.UTC, time.Time{}, false},
		{20260101236000, time.UTC, time.Time{}, false},
		{20260101235960, time.UTC, time.Time{}, false},
		{20260229120000, time.UTC, time.Time{}, false},
		{1767225600, time.UTC, time.Time{}, false},
		{-20260101000000, time.UTC, time.Time{}, false},
	}
	for _, tt := range tests {
		got, err := parseTS(tt.ts, tt.loc)
		if (err == nil) != tt.ok || !got.Equal(tt.want) {
			t.Errorf("parseTS(%d, %v) = %v, %v; want %v, ok %v", tt.ts, tt.loc, got, err, tt.want, tt.ok)
		}
	}
}

func TestANotReadyAnswerLeavesNothingBehind(t *testing.T) {
	// The not-ready answer carries fields a page does not; the page that
	// follows must not inherit them.
	rec := &recorder{fn: func(w http.ResponseWriter, r *http.Request, n int) {
		switch n {
		case 1:
			write(w, 200, `{"status":"success","cursor":"c1"}`)
		case 2:
			write(w, 200, `{"status":"fail","code":2,"error":"Request still in progress, please retry later","next_cursor":"stale","records":[{"ts":20260101000000}]}`)
		default:
			write(w, 200, `{"status":"success","records":[{"profile":{"objectId":"a"},"ts":20260101000000}]}`)
		}
	}}
	c := setup(t, rec)
	recs, pages, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260101})
	if err != nil || pages != 1 || len(recs) != 1 || recs[0].ObjectID != "a" {
		t.Errorf("got %d pages %+v, err %v; want the one real page", pages, recs, err)
	}
}
