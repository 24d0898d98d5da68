package ctsim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// t0 is the sim clock start in tests; fixture times are around it.
var t0 = time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)

// fixture is a small dataset: Ada (identity, two devices), two profiles
// sharing bob@example.com (one orphan), and Cy without identity.
func fixture() *Dataset {
	day := func(d, h int) time.Time { return time.Date(2026, 1, d, h, 0, 0, 0, time.UTC) }
	return &Dataset{
		Account: Account{ID: "ACC-1", Passcodes: []string{"pass-a", "pass-b"}, Region: "eu1", Timezone: "UTC"},
		Profiles: []Profile{
			{Identity: "u-1", Email: "Ada@Example.com", Name: "Ada", ProfileData: map[string]any{"City": "Lisbon"},
				Devices:   []Device{{ObjectID: "-aaaa0000aaaa0000aaaa0000aaaa0001", Platform: "iOS", Make: "Apple", Model: "iPhone 15", OSVersion: "17.2"}, {ObjectID: "8f6e9c1a-0000-4000-8000-000000000001", Platform: "Web"}},
				CreatedAt: day(1, 9), UpdatedAt: day(10, 9)},
			{Identity: "u-2", Email: "bob@example.com", Name: "Bob", Devices: []Device{{ObjectID: "__bbbb0000bbbb0000bbbb0000bbbb0002", Platform: "Android"}},
				CreatedAt: day(2, 9), UpdatedAt: day(3, 9)},
			{Email: "BOB@example.com", Name: "Bob (orphan)", Devices: []Device{{ObjectID: "__gbbbb0000bbbb0000bbbb0000bbbb0003", Platform: "Android"}},
				CreatedAt: day(4, 9), UpdatedAt: day(12, 9)},
			{Email: "cy@example.org", Devices: []Device{{ObjectID: "9a9a9a9a-0000-4000-8000-000000000004", Platform: "Web"}},
				CreatedAt: day(5, 9), UpdatedAt: day(5, 9)},
		},
		Events: []Event{
			{ObjectID: "-aaaa0000aaaa0000aaaa0000aaaa0001", Name: "App Launched", Time: day(6, 10)},
			{ObjectID: "8f6e9c1a-0000-4000-8000-000000000001", Name: "App Launched", Time: day(7, 11), SessionProps: map[string]any{"utm_source": "newsletter"}},
			{ObjectID: "-aaaa0000aaaa0000aaaa0000aaaa0001", Name: "Charged", Time: day(8, 12), EventProps: map[string]any{"Amount": 12.5}},
			{ObjectID: "__bbbb0000bbbb0000bbbb0000bbbb0002", Name: "App Launched", Time: day(6, 8)},
			{ObjectID: "__gbbbb0000bbbb0000bbbb0000bbbb0003", Name: "App Launched", Time: day(9, 8)},
			{ObjectID: "9a9a9a9a-0000-4000-8000-000000000004", Name: "Charged", Time: day(9, 23), EventProps: map[string]any{"Amount": 99}},
		},
	}
}

const (
	adaIOS = "-aaaa0000aaaa0000aaaa0000aaaa0001"
	adaWeb = "8f6e9c1a-0000-4000-8000-000000000001"
	bobA   = "__bbbb0000bbbb0000bbbb0000bbbb0002"
	bobB   = "__gbbbb0000bbbb0000bbbb0000bbbb0003"
	cyWeb  = "9a9a9a9a-0000-4000-8000-000000000004"
)

// testSim is a simulator behind a real HTTP server.
type testSim struct {
	*Server
	url string
}

func mustSim(tb testing.TB, ds *Dataset, opts Options) *testSim {
	tb.Helper()
	if ds == nil {
		ds = fixture()
	}
	s, err := New(ds, opts)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	return &testSim{Server: s, url: ts.URL}
}

// reply is a decoded answer.
type reply struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

// do sends method path (path may carry a raw query) with the fixture's
// credentials and body (nil for none).
func (ts *testSim) do(tb testing.TB, method, path string, body any) reply {
	tb.Helper()
	return ts.doAuth(tb, method, path, body, "ACC-1", "pass-a")
}

func (ts *testSim) doAuth(tb testing.TB, method, path string, body any, account, passcode string) reply {
	tb.Helper()
	var rd io.Reader
	if body != nil {
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else {
			b, err := json.Marshal(body)
			if err != nil {
				tb.Fatal(err)
			}
			rd = bytes.NewReader(b)
		}
	}
	req, err := http.NewRequestWithContext(tb.Context(), method, ts.url+path, rd)
	if err != nil {
		tb.Fatal(err)
	}
	if account != "" {
		req.Header.Set("X-CleverTap-Account-Id", account)
	}
	if passcode != "" {
		req.Header.Set("X-CleverTap-Passcode", passcode)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	return send(tb, req)
}

func send(tb testing.TB, req *http.Request) reply {
	tb.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &r.body); err != nil {
		tb.Fatalf("%s %s: reply is not a JSON object: %q", req.Method, req.URL.Path, b)
	}
	return r
}

// wantFail checks a {"status":"fail","error":msg,"code":code} reply.
func (r reply) wantFail(tb testing.TB, httpStatus int, code int, msg string) {
	tb.Helper()
	if r.status != httpStatus || r.body["status"] != "fail" || r.body["code"] != float64(code) || (msg != "" && r.body["error"] != msg) {
		tb.Fatalf("got HTTP %d %s, want HTTP %d fail code %d %q", r.status, r.raw, httpStatus, code, msg)
	}
}

func (r reply) wantSuccess(tb testing.TB) {
	tb.Helper()
	if r.status != http.StatusOK || r.body["status"] != "success" {
		tb.Fatalf("got HTTP %d %s, want 200 success", r.status, r.raw)
	}
}

// record returns the "record" object of a profile.json reply.
func (r reply) record(tb testing.TB) map[string]any {
	tb.Helper()
	rec, ok := r.body["record"].(map[string]any)
	if !ok {
		tb.Fatalf("no record in %s", r.raw)
	}
	return rec
}

// objectIDs returns the objectIds in a record's platformInfo.
func objectIDs(rec map[string]any) []string {
	var out []string
	for _, d := range rec["platformInfo"].([]any) {
		out = append(out, d.(map[string]any)["objectId"].(string))
	}
	return out
}

func mustJSON(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
