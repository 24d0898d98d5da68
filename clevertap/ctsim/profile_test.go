package ctsim

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
)

func TestProfileLookup(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	tests := []struct {
		name  string
		query string
		want  []string // objectIds of the record
	}{
		{"email", "email=" + url.QueryEscape("Ada@Example.com"), []string{adaIOS, adaWeb}},
		{"email ignores case", "email=" + url.QueryEscape("ada@example.COM"), []string{adaIOS, adaWeb}},
		{"identity", "identity=u-2", []string{bobA}},
		{"objectId of second device", "objectId=" + adaWeb, []string{adaIOS, adaWeb}},
		{"profile without identity", "email=cy%40example.org", []string{cyWeb}},
		{"email wins over identity", "identity=u-2&email=cy%40example.org", []string{cyWeb}},
		{"shared email picks last updated", "email=bob%40example.com", []string{bobB}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.do(t, "GET", "/1/profile.json?"+tt.query, nil)
			r.wantSuccess(t)
			if got := objectIDs(r.record(t)); !slices.Equal(got, tt.want) {
				t.Errorf("objectIds = %v, want %v", got, tt.want)
			}
			if ct := r.header.Get("Content-Type"); ct != "application/json;charset=utf-8" {
				t.Errorf("Content-Type = %q", ct)
			}
		})
	}
}

func TestProfileRecordShape(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	rec := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).record(t)
	if rec["identity"] != "u-1" || rec["email"] != "Ada@Example.com" || rec["name"] != "Ada" {
		t.Errorf("identity, email, name = %v, %v, %v", rec["identity"], rec["email"], rec["name"])
	}
	if _, ok := rec["phone"]; ok {
		t.Errorf("phone present though empty: %v", rec)
	}
	if pd := rec["profileData"].(map[string]any); pd["City"] != "Lisbon" {
		t.Errorf("profileData = %v", pd)
	}
	ios := rec["platformInfo"].([]any)[0].(map[string]any)
	if ios["platform"] != "iOS" || ios["make"] != "Apple" || ios["os_version"] != "17.2" {
		t.Errorf("platformInfo[0] = %v", ios)
	}
	// The summary is computed from both devices' events.
	events := rec["events"].(map[string]any)
	launched := events["App Launched"].(map[string]any)
	wantFirst := float64(t0.AddDate(0, 0, -9).Add(-2 * 3600e9).Unix()) // 2026-01-06T10:00Z
	if launched["count"] != 2.0 || launched["first_seen"] != wantFirst || launched["last_seen"] != wantFirst+86400+3600 {
		t.Errorf("App Launched summary = %v, want count 2, first %v, last %v", launched, wantFirst, wantFirst+86400+3600)
	}
	if charged := events["Charged"].(map[string]any); charged["count"] != 1.0 {
		t.Errorf("Charged summary = %v", charged)
	}
}

func TestProfileNotFoundModes(t *testing.T) {
	tests := []struct {
		mode       string
		text       string
		httpStatus int
		raw        string
	}{
		{"", "", 200, `{"status":"success","record":null}`},
		{"success_null", "", 200, `{"status":"success","record":null}`},
		{"success_absent", "", 200, `{"status":"success"}`},
		{"fail_200", "", 200, `{"status":"fail","error":"Profile not found","code":404}`},
		{"http_404", "", 404, `{"status":"fail","error":"Profile not found","code":404}`},
		{"fail_200", "No such user", 200, `{"status":"fail","error":"No such user","code":404}`},
		{"http_404", "Not found", 404, `{"status":"fail","error":"Not found","code":404}`},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode+" "+tt.text, func(t *testing.T) {
			ts := mustSim(t, nil, Options{NotFoundMode: tt.mode, NotFoundText: tt.text})
			for _, q := range []string{"email=nobody%40example.com", "identity=u-404", "objectId=-ffff"} {
				r := ts.do(t, "GET", "/1/profile.json?"+q, nil)
				if r.status != tt.httpStatus || r.raw != tt.raw {
					t.Errorf("%s: got HTTP %d %s, want HTTP %d %s", q, r.status, r.raw, tt.httpStatus, tt.raw)
				}
			}
		})
	}
}

func TestProfileLookupFail(t *testing.T) {
	tests := []struct {
		status   int
		wantHTTP int
		wantCode int
	}{
		{0, 200, 400},
		{200, 200, 400},
		{400, 400, 400},
		{404, 404, 404},
		{503, 503, 503},
	}
	for _, tt := range tests {
		ts := mustSim(t, nil, Options{LookupFailText: "Lookups are paused", LookupFailStatus: tt.status})
		// Found or not, every lookup is refused with the text.
		for _, q := range []string{"identity=u-1", "email=nobody%40example.com"} {
			ts.do(t, "GET", "/1/profile.json?"+q, nil).wantFail(t, tt.wantHTTP, tt.wantCode, "Lookups are paused")
		}
		// Other endpoints are not affected.
		ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-404"}).wantSuccess(t)
	}
}

func TestProfileMultiMatch(t *testing.T) {
	tests := []struct {
		mode string
		want string // objectId returned, "" for a failure
	}{
		{"", bobB},
		{"last_updated", bobB},
		{"first_created", bobA},
		{"error", ""},
	}
	for _, tt := range tests {
		t.Run("mode "+tt.mode, func(t *testing.T) {
			ts := mustSim(t, nil, Options{MultiMatch: tt.mode})
			r := ts.do(t, "GET", "/1/profile.json?email=Bob%40Example.com", nil)
			if tt.want == "" {
				r.wantFail(t, http.StatusOK, 400, "")
				return
			}
			r.wantSuccess(t)
			if got := objectIDs(r.record(t)); !slices.Equal(got, []string{tt.want}) {
				t.Errorf("objectIds = %v, want [%s]", got, tt.want)
			}
		})
	}
}

func TestProfileBadRequest(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	for _, q := range []string{"", "?email=", "?phone=%2B4915550001", "?foo=bar"} {
		ts.do(t, "GET", "/1/profile.json"+q, nil).wantFail(t, http.StatusBadRequest, 400, "")
	}
}

func TestPadProfileBytes(t *testing.T) {
	ts := mustSim(t, nil, Options{PadProfileBytes: 3 << 20})
	r := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil)
	r.wantSuccess(t)
	pd := r.record(t)["profileData"].(map[string]any)
	if len(r.raw) < 3<<20 || len(pd["_pad"].(string)) != 3<<20 || pd["City"] != "Lisbon" {
		t.Errorf("answer of %d bytes, profileData keys %d; want over 3 MiB with the real properties kept", len(r.raw), len(pd))
	}
	// The stored profile is not changed by the padding.
	if p := ts.Lookup("", "u-1")[0]; len(p.ProfileData) != 1 {
		t.Errorf("stored profileData = %v", p.ProfileData)
	}
}
