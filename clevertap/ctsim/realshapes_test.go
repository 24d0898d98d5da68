package ctsim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// rawDo sends method path with the fixture's credentials and returns the
// answer as is (it need not be JSON), without following redirects.
func (ts *testSim) rawDo(tb testing.TB, method, path, body string) (*http.Response, string) {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), method, ts.url+path, strings.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header.Set("X-CleverTap-Account-Id", "ACC-1")
	req.Header.Set("X-CleverTap-Passcode", "pass-a")
	hc := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := hc.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	return resp, string(b)
}

func TestStep1Pending(t *testing.T) {
	for _, body := range []string{"", `{"status":"fail","error":"Request still in progress, please retry later","code":2}`} {
		ts := mustSim(t, nil, Options{Step1Pending: 2, Step1PendingBody: body})
		q := mustJSON(t, cqlBody("App Launched"))
		for i := range 2 {
			kind := []string{"events", "profiles"}[i]
			resp, got := ts.rawDo(t, "POST", "/1/"+kind+".json?batch_size=10", q)
			if resp.StatusCode != http.StatusAccepted || got != body {
				t.Errorf("step 1 try %d: HTTP %d %q, want 202 %q", i+1, resp.StatusCode, got, body)
			}
		}
		if c := ts.open(t, "events", "?batch_size=10", cqlBody("App Launched")); c == "" {
			t.Error("the third step 1 gave no cursor")
		}
	}
}

func TestUnexportableEvents(t *testing.T) {
	ts := mustSim(t, nil, Options{UnexportableEvents: []string{"Uninstalled", "Charged"}})
	for _, name := range []string{"Uninstalled", "Charged"} {
		// No filter at all, and still refused (a stored event name too).
		ts.do(t, "POST", "/1/events.json?batch_size=10", cqlBody(name)).
			wantFail(t, http.StatusOK, 400, `["Invalid event : `+name+`"]`)
	}
	ts.open(t, "events", "?batch_size=10", cqlBody("App Launched"))
}

func TestAnonymousEventRecords(t *testing.T) {
	ts := mustSim(t, nil, Options{AnonymousEventRecords: true})
	recs := records(ts.pages(t, "events", ts.open(t, "events", "?events=false&profile=true", cqlBody("Charged"))))
	if len(recs) != 2 {
		t.Fatalf("%d records, want 2", len(recs))
	}
	p := recs[0]["profile"].(map[string]any)
	for _, k := range []string{"identity", "email", "id", "name", "phone", "events"} {
		if _, ok := p[k]; ok {
			t.Errorf("record profile has %q: %v", k, p)
		}
	}
	if p["objectId"] != adaIOS || p["make"] != "Apple" || p["model"] != "iPhone 15" || len(p["df"].([]any)) != 3 {
		t.Errorf("record profile lacks objectId, device fields or df without app=true: %v", p)
	}
	if p["profileData"].(map[string]any)["City"] != "Lisbon" {
		t.Errorf("profileData missing: %v", p)
	}
}

func TestStringCodes(t *testing.T) {
	ts := mustSim(t, nil, Options{StringCodes: true, NotFoundMode: "fail_200"})
	for _, tt := range []struct {
		path   string
		status int
		code   string
	}{
		{"/1/profile.json?identity=nobody", 200, "404"},
		{"/1/nope.json", 404, "404"},
		{"/1/profile.json", 400, "400"},
	} {
		r := ts.do(t, "GET", tt.path, nil)
		if r.status != tt.status || r.body["code"] != tt.code || r.body["status"] != "fail" {
			t.Errorf("GET %s: HTTP %d %s, want %d with code %q", tt.path, r.status, r.raw, tt.status, tt.code)
		}
	}
	r := ts.doAuth(t, "GET", "/1/profile.json?identity=u-1", nil, "ACC-1", "wrong")
	if r.status != 401 || r.body["code"] != "401" {
		t.Errorf("wrong passcode: HTTP %d %s", r.status, r.raw)
	}
	ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).wantSuccess(t)
}

func TestNestedPlatformInfo(t *testing.T) {
	ts := mustSim(t, nil, Options{NestedPlatformInfo: true})
	rec := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).record(t)
	if _, ok := rec["email"]; ok {
		t.Errorf("top-level email present: %v", rec)
	}
	if _, ok := rec["events"]; ok {
		t.Errorf("top-level events present: %v", rec)
	}
	first := rec["platformInfo"].([]any)[0].(map[string]any)
	if first["email"] != "Ada@Example.com" || first["events"].(map[string]any)["Charged"] == nil {
		t.Errorf("platformInfo[0] lacks email or events: %v", first)
	}
	if second := rec["platformInfo"].([]any)[1].(map[string]any); second["email"] != nil {
		t.Errorf("only the first device carries them: %v", second)
	}
	// profiles.json records have the same shape.
	pages := ts.pages(t, "profiles", ts.open(t, "profiles", "", cqlBody("Charged")))
	for _, r := range records(pages) {
		if _, ok := r["email"]; ok {
			t.Errorf("profiles.json record with top-level email: %v", r)
		}
	}
}

func TestWrongPerson(t *testing.T) {
	ts := mustSim(t, nil, Options{WrongPerson: true})
	for _, q := range []string{"email=ada%40example.com", "identity=u-1"} {
		rec := ts.do(t, "GET", "/1/profile.json?"+q, nil).record(t)
		if strings.EqualFold(rec["email"].(string), "ada@example.com") || rec["identity"] == "u-1" {
			t.Errorf("%s answered with the right person: %v", q, rec)
		}
	}
	// A lookup by objectId is not affected.
	if ids := objectIDs(ts.do(t, "GET", "/1/profile.json?objectId="+adaIOS, nil).record(t)); !slices.Contains(ids, adaIOS) {
		t.Errorf("objectId lookup answered %v", ids)
	}
}

func TestRedirectTo(t *testing.T) {
	ts := mustSim(t, nil, Options{RedirectTo: "https://elsewhere.example/"})
	for _, path := range []string{"/1/profile.json?email=a%40b.c", "/1/events.json?cursor=x%2F", "/1/delete/profiles.json"} {
		resp, _ := ts.rawDo(t, "POST", path, "{}")
		if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != "https://elsewhere.example"+path {
			t.Errorf("%s: HTTP %d Location %q", path, resp.StatusCode, resp.Header.Get("Location"))
		}
	}
	resp, body := ts.rawDo(t, "GET", "/_sim/stats", "")
	var st Stats
	if resp.StatusCode != 200 || json.Unmarshal([]byte(body), &st) != nil || st.Calls["profile"] != 0 {
		t.Errorf("admin endpoint: HTTP %d %s", resp.StatusCode, body)
	}
}
