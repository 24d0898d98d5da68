package clevertap

import (
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The files in testdata/real reproduce answers seen from the real service
// (testdata/real/README.md names the source of each). Each is served over
// HTTP and must decode to the right result or typed error.

func realFixture(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "real", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// sequence answers the nth request with answers[n-1] (the last one again
// after that), each a status and a fixture body.
func sequence(tb testing.TB, answers ...struct {
	status int
	file   string
}) *recorder {
	bodies := make([]string, len(answers))
	for i, a := range answers {
		bodies[i] = realFixture(tb, a.file)
	}
	return &recorder{fn: func(w http.ResponseWriter, _ *http.Request, n int) {
		i := min(n, len(answers)) - 1
		write(w, answers[i].status, bodies[i])
	}}
}

type ans = struct {
	status int
	file   string
}

func TestRealProfileRecord(t *testing.T) {
	c := setup(t, sequence(t, ans{200, "profile_record.json"}))
	p, err := c.Profile(t.Context(), ByEmail, "river.stone@example.com")
	if err != nil {
		t.Fatal(err)
	}
	var pd map[string]any
	if err := json.Unmarshal(p.ProfileData, &pd); err != nil || pd["High Score"] != 530.0 || pd["Replayed"] != false {
		t.Errorf("profileData %s", p.ProfileData)
	}
	want := EventSummary{Count: 14, FirstSeen: time.Unix(1704103200, 0).UTC(), LastSeen: time.Unix(1706781600, 0).UTC()}
	if p.Email != "river.stone@example.com" || p.Identity != "" || len(p.Events) != 2 || p.Events["App Launched"] != want {
		t.Errorf("email %q identity %q events %+v", p.Email, p.Identity, p.Events)
	}
	if ids := p.ObjectIDs(); len(ids) != 2 || ids[0] != "-0f3a9c2e7b1d4e5f8a6b0c9d2e4f6a8b" || p.Platforms[0].Make != "Apple" {
		t.Errorf("devices %+v", p.Platforms)
	}
}

func TestRealPlatformInfoWithDFLastSeenAndPhone(t *testing.T) {
	c := setup(t, sequence(t, ans{200, "profile_platforminfo_df_ls_phone.json"}))
	p, err := c.Profile(t.Context(), ByIdentity, "5000000042")
	if err != nil {
		t.Fatal(err)
	}
	ios := p.Platforms[0]
	if !strings.HasPrefix(ios.ObjectID, "-v") || ios.Platform != "iOS" || ios.Phone != "915550000042" ||
		!ios.LastSeen.Equal(time.Unix(1735713000, 0)) || len(ios.PushToken) != 64 {
		t.Errorf("iOS device %+v", ios)
	}
	if p.Phone != "915550000042" || p.Identity != "5000000042" || p.Name != "Kit Harbour" || len(p.ObjectIDs()) != 2 {
		t.Errorf("profile %+v", p)
	}
	if !strings.Contains(string(p.PlatformInfo), `"df"`) {
		t.Errorf("platformInfo not kept as received: %s", p.PlatformInfo)
	}
}

func TestRealProfilesRecordWithNestedPlatformInfo(t *testing.T) {
	var page struct {
		NextCursor string            `json:"next_cursor"`
		Records    []json.RawMessage `json:"records"`
	}
	if err := json.Unmarshal([]byte(realFixture(t, "profiles_page_nested_platforminfo.json")), &page); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page.NextCursor, "%2F") || len(page.Records) != 1 {
		t.Fatalf("fixture shape: %+v", page)
	}
	c := setup(t, reply(200, `{"status":"success","record":`+string(page.Records[0])+`}`))
	p, err := c.Profile(t.Context(), ByIdentity, "41")
	if err != nil {
		t.Fatal(err)
	}
	want := EventSummary{Count: 12, FirstSeen: time.Unix(1709251200, 0).UTC(), LastSeen: time.Unix(1711929600, 0).UTC()}
	if p.Identity != "41" || p.Email != "lane.fielder@example.com" || p.Events["App Launched"] != want || len(p.Events) != 2 {
		t.Errorf("identity %q email %q events %+v; want email and events from platformInfo[0]", p.Identity, p.Email, p.Events)
	}
}

// Step-1 cursors, short and real-sized, travel back byte for byte.
func TestRealStepOneCursors(t *testing.T) {
	for _, file := range []string{"events_step1_cursor.json", "events_cursor_1932.json"} {
		var step1 struct{ Cursor string }
		if err := json.Unmarshal([]byte(realFixture(t, file)), &step1); err != nil {
			t.Fatal(err)
		}
		rec := sequence(t, ans{200, file}, ans{200, "events_page_empty_range.json"})
		c := setup(t, rec)
		recs, pages, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20240101, To: 20240131})
		if err != nil || pages != 0 || len(recs) != 0 {
			t.Fatalf("%s: %d pages, %v", file, pages, err)
		}
		got := rec.requests()
		if len(got) != 2 || got[1].RawQuery != "cursor="+step1.Cursor {
			t.Errorf("%s: page asked with %.60q…, want the cursor as received", file, got[len(got)-1].RawQuery)
		}
	}
	if n := len(realFixture(t, "events_cursor_1932.json")); n < 1932 {
		t.Errorf("the long cursor fixture is %d bytes", n)
	}
}

func TestRealPageWithRawPreviousCursor(t *testing.T) {
	var fix struct {
		Previous string `json:"previous_cursor"`
		Next     string `json:"next_cursor"`
	}
	if err := json.Unmarshal([]byte(realFixture(t, "events_page_raw_previous.json")), &fix); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(fix.Previous, "/") || !strings.Contains(fix.Next, "%2F") {
		t.Fatalf("fixture shape: previous %q next %q", fix.Previous, fix.Next)
	}
	rec := sequence(t, ans{200, "events_step1_cursor.json"}, ans{200, "events_page_raw_previous.json"}, ans{200, "events_page_no_cursors.json"})
	c := setup(t, rec, WithTimezone(time.UTC))
	recs, pages, err := collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20240301, To: 20240331})
	if err != nil || pages != 2 || len(recs) != 4 {
		t.Fatalf("%d pages, %d records, %v; want 2 pages of 2", pages, len(recs), err)
	}
	r := recs[0]
	if r.ObjectID != "c41d8e2b-5a7f-4c39-9e16-0b8d3f2a7c55" || r.Identity != "7000000001" || r.Email != "ash.meadow@example.com" ||
		r.TS != 20240312091502 || !r.Time.Equal(time.Date(2024, 3, 12, 9, 15, 2, 0, time.UTC)) {
		t.Errorf("record 0 = %+v", r)
	}
	if got := rec.requests(); got[2].RawQuery != "cursor="+fix.Next {
		t.Errorf("next page asked with %q, want next_cursor as received", got[2].RawQuery)
	}
}

func TestRealPageWithNeitherCursorEndsTheExport(t *testing.T) {
	rec := sequence(t, ans{200, "events_step1_cursor.json"}, ans{200, "events_page_no_cursors.json"})
	c := setup(t, rec)
	recs, pages, err := collect(t.Context(), c, EventQuery{EventName: "Screen Viewed", From: 20240402, To: 20240402})
	if err != nil || pages != 1 || len(recs) != 2 || len(rec.requests()) != 2 {
		t.Errorf("%d pages, %d records, %d requests, %v; want 1, 2, 2", pages, len(recs), len(rec.requests()), err)
	}
}

func TestRealRecordsWithoutIdentity(t *testing.T) {
	rec := sequence(t, ans{200, "events_step1_cursor.json"}, ans{200, "events_records_df_no_identity.json"})
	c := setup(t, rec)
	recs, _, err := collect(t.Context(), c, EventQuery{EventName: "Screen Viewed", From: 20240401, To: 20240401})
	if err != nil || len(recs) != 2 {
		t.Fatalf("%d records, %v", len(recs), err)
	}
	for _, r := range recs {
		if !strings.HasPrefix(r.ObjectID, "__") || r.Platform != "Android" || r.Identity != "" || r.Email != "" || r.Time.IsZero() {
			t.Errorf("record %+v: want an objectId and platform, no identity or email", r)
		}
	}
}

// An IST account's ts is local: read in Asia/Kolkata it is the record's
// own first_seen; read as UTC it is 5 h 30 min late.
func TestRealISTRecord(t *testing.T) {
	ist, err := time.LoadLocation("Asia/Kolkata")
	if err != nil {
		t.Fatal(err)
	}
	firstSeen := time.Unix(1668840085, 0)
	for _, tt := range []struct {
		loc  *time.Location
		want time.Time
	}{{ist, firstSeen}, {time.UTC, firstSeen.Add(5*time.Hour + 30*time.Minute)}} {
		c := setup(t, sequence(t, ans{200, "events_step1_cursor.json"}, ans{200, "events_record_ist.json"}), WithTimezone(tt.loc))
		recs, _, err := collect(t.Context(), c, EventQuery{EventName: "UTM Visited", From: 20221119, To: 20221119})
		if err != nil || len(recs) != 1 {
			t.Fatalf("%v: %d records, %v", tt.loc, len(recs), err)
		}
		if r := recs[0]; r.TS != 20221119121125 || !r.Time.Equal(tt.want) {
			t.Errorf("%v: ts %d read as %v, want %v", tt.loc, r.TS, r.Time, tt.want.UTC())
		}
	}
}

func TestRealFailAnswers(t *testing.T) {
	tests := []struct {
		name     string
		answers  []ans
		op       string
		want     error // nil: success after retries
		wantReqs int
		wantCode int
		wantMsg  string
	}{
		{"recorded 401", []ans{{401, "fail_401_account.json"}}, "delete", ErrUnauthorized, 1, 401, "Account ID is not valid"},
		{"fail without a code", []ans{{400, "fail_no_code.json"}}, "delete", ErrInvalidRequest, 1, 0, "This report has not finished yet"},
		{"fail without a code on 200", []ans{{200, "fail_no_code.json"}}, "delete", ErrInvalidRequest, 1, 0, "This report has not finished yet"},
		{"invalid event on 200", []ans{{200, "fail_invalid_event.json"}}, "events", ErrInvalidRequest, 1, 400, "Invalid event : Uninstalled"},
		{"429 then success", []ans{{429, "fail_429.json"}, {200, "delete_success.json"}}, "delete", nil, 2, 0, ""},
		{"429 throughout", []ans{{429, "fail_429.json"}}, "delete", ErrRateLimited, 3, 429, "Too many concurrent requests"},
		{"step 1 pending (202, empty) then a cursor", []ans{{202, "pending_202.empty"}, {202, "pending_202.empty"}, {200, "events_step1_cursor.json"}, {200, "events_page_empty_range.json"}}, "events", nil, 4, 0, ""},
		{"step 1 pending throughout", []ans{{202, "pending_202.empty"}}, "events", ErrNotReady, 3, 0, "Accepted"},
		{"page in progress then ready", []ans{{200, "events_step1_cursor.json"}, {200, "fail_in_progress.json"}, {200, "events_page_no_cursors.json"}}, "events", nil, 3, 0, ""},
		{"page in progress on 202", []ans{{200, "events_step1_cursor.json"}, {202, "fail_in_progress.json"}}, "events", ErrNotReady, 4, 2, "Request still in progress, please retry later"},
		{"delete success", []ans{{200, "delete_success.json"}}, "delete", nil, 1, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := sequence(t, tt.answers...)
			c := setup(t, rec)
			err := ops[tt.op](t.Context(), c)
			if n := len(rec.requests()); n != tt.wantReqs {
				t.Errorf("%d requests, want %d", n, tt.wantReqs)
			}
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v, want success", err)
				}
				return
			}
			var api *APIError
			if got := matching(err); len(got) != 1 || got[0] != tt.want || !errors.As(err, &api) {
				t.Fatalf("err = %v, matches %v; want an *APIError matching only %v", err, got, tt.want)
			}
			if api.Code != tt.wantCode || api.Message != tt.wantMsg {
				t.Errorf("code %d message %q, want %d %q", api.Code, api.Message, tt.wantCode, tt.wantMsg)
			}
		})
	}
}

// Every fixture is used by a test above.
func TestRealFixturesAreAllUsed(t *testing.T) {
	src, err := os.ReadFile("realfixtures_test.go")
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "real", "*"))
	if err != nil {
		t.Fatal(err)
	}
	readme := realFixture(t, "README.md")
	for _, f := range files {
		name := filepath.Base(f)
		if name == "README.md" {
			continue
		}
		if !strings.Contains(string(src), `"`+name+`"`) {
			t.Errorf("%s is not served by any test", name)
		}
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("%s is not in README.md", name)
		}
	}
}
