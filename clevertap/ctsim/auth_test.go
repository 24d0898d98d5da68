package ctsim

import (
	"net/http"
	"testing"
)

func TestAuthCheckedFirst(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	tests := []struct {
		name              string
		method, path      string
		account, passcode string
		msg               string
	}{
		{"no headers", "GET", "/1/profile.json?identity=u-1", "", "", "Account ID is not valid"},
		{"unknown account", "GET", "/1/profile.json?identity=u-1", "fake_account_id", "pass-a", "Account ID is not valid"},
		{"no passcode", "GET", "/1/profile.json?identity=u-1", "ACC-1", "", "Invalid Credentials"},
		{"wrong passcode", "GET", "/1/profile.json?identity=u-1", "ACC-1", "pass-z", "Invalid Credentials"},
		{"before 404", "GET", "/1/nope.json", "ACC-1", "wrong", "Invalid Credentials"},
		{"before 405", "DELETE", "/1/delete/profiles.json", "", "", "Account ID is not valid"},
		{"before validation", "POST", "/1/events.json", "ACC-1", "wrong", "Invalid Credentials"},
		{"before cursor lookup", "GET", "/1/events.json?cursor=abc", "nobody", "pass-a", "Account ID is not valid"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := ts.doAuth(t, tt.method, tt.path, nil, tt.account, tt.passcode)
			r.wantFail(t, http.StatusUnauthorized, 401, tt.msg)
			if ct := r.header.Get("Content-Type"); ct != contentType {
				t.Errorf("Content-Type = %q, want %q", ct, contentType)
			}
		})
	}
	if got := ts.Stats().Calls; len(got) != 0 {
		t.Errorf("rejected requests were counted: %v", got)
	}
}

func TestAuthAnyPasscodeAnyHeaderCase(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	for _, pc := range []string{"pass-a", "pass-b"} {
		for _, names := range [][2]string{
			{"X-CleverTap-Account-Id", "X-CleverTap-Passcode"},
			{"x-clevertap-account-id", "x-clevertap-passcode"},
			{"X-CLEVERTAP-ACCOUNT-ID", "X-CLEVERTAP-PASSCODE"},
		} {
			req, err := http.NewRequestWithContext(t.Context(), "GET", ts.url+"/1/profile.json?identity=u-1", nil)
			if err != nil {
				t.Fatal(err)
			}
			// Set the names verbatim, bypassing canonicalisation, as a
			// non-Go client would send them.
			req.Header[names[0]] = []string{"ACC-1"}
			req.Header[names[1]] = []string{pc}
			req.Header["content-type"] = []string{"application/json"} // accepted on GET
			send(t, req).wantSuccess(t)
		}
	}
}

func TestStrictRegion(t *testing.T) {
	tests := []struct {
		strict bool
		region string // the account's; "" is eu1
		host   string
		ok     bool
	}{
		{false, "", "in1.api.clevertap.com", true},
		{true, "", "in1.api.clevertap.com", false},
		{true, "", "us1.api.clevertap.com:443", false},
		{true, "", "eu1.api.clevertap.com", true},
		{true, "", "api.clevertap.com", true}, // the default host serves Europe
		{true, "", "127.0.0.1", true},         // not a region host: ignored
		{true, "", "sk1.api.clevertap.com", false},
		{true, "sk1", "sk1.api.clevertap.com", true}, // South Korea
		{true, "sk1", "api.clevertap.com", false},
	}
	for _, tt := range tests {
		ds := fixture()
		ds.Account.Region = tt.region
		ts := mustSim(t, ds, Options{StrictRegion: tt.strict})
		req, err := http.NewRequestWithContext(t.Context(), "GET", ts.url+"/1/profile.json?identity=u-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Host = tt.host
		req.Header.Set("X-CleverTap-Account-Id", "ACC-1")
		req.Header.Set("X-CleverTap-Passcode", "pass-a")
		r := send(t, req)
		if tt.ok {
			r.wantSuccess(t)
		} else {
			r.wantFail(t, http.StatusUnauthorized, 401, "Invalid Credentials")
		}
	}
}

func TestRouting(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	tests := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/1/nope.json", 404, ""},
		{"GET", "/1/upload", 404, ""},
		{"GET", "/elsewhere", 404, ""},
		{"POST", "/1/profile.json?identity=u-1", 405, "GET"},
		{"GET", "/1/delete/profiles.json", 405, "POST"},
		{"PUT", "/1/events.json", 405, "GET, POST"},
		{"GET", "/1/demerge/profiles.json", 405, "POST"},
	}
	for _, tt := range tests {
		r := ts.do(t, tt.method, tt.path, nil)
		r.wantFail(t, tt.status, tt.status, "")
		if got := r.header.Get("Allow"); got != tt.allow {
			t.Errorf("%s %s: Allow = %q, want %q", tt.method, tt.path, got, tt.allow)
		}
	}
}
