package ctsim

import (
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"testing/synctest"
	"time"
)

func TestInjectFault(t *testing.T) {
	tests := []struct {
		fault  Fault
		status int
		raw    string
	}{
		{Fault500, 500, `{"status":"fail","error":"Internal Server Error","code":500}`},
		{Fault503, 503, `{"status":"fail","error":"Service Unavailable","code":503}`},
		{Fault429, 429, `{"status":"fail","error":"Too many concurrent requests","code":429}`},
	}
	for _, tt := range tests {
		t.Run(string(tt.fault), func(t *testing.T) {
			ts := mustSim(t, nil, Options{})
			ts.InjectFault("profile", 2, tt.fault)
			var got []int
			for i := range 3 {
				r := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil)
				got = append(got, r.status)
				if i == 1 && r.raw != tt.raw {
					t.Errorf("faulted reply %s, want %s", r.raw, tt.raw)
				}
			}
			if got[0] != 200 || got[1] != tt.status || got[2] != 200 {
				t.Errorf("statuses %v, want [200 %d 200]", got, tt.status)
			}
			st := ts.Stats()
			if st.Faults[string(tt.fault)] != 1 || st.TooMany["profile"] != 0 || st.Calls["profile"] != 3 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func TestInjectFaultPerGroup(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	ts.InjectFault("delete", 1, Fault503)
	// Requests to other groups do not consume the delete fault.
	ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).wantSuccess(t)
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-1"}).wantFail(t, 503, 503, msgUnavailable)
	ts.do(t, "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-1"}).wantSuccess(t)
	if st := ts.Stats(); st.DeleteCalls != 1 {
		t.Errorf("a faulted delete was carried out: DeleteCalls = %d", st.DeleteCalls)
	}
}

func TestFaultReset(t *testing.T) {
	ts := mustSim(t, nil, Options{})
	ts.InjectFault("delete", 1, FaultReset)
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	req, err := http.NewRequestWithContext(t.Context(), "POST", ts.url+"/1/delete/profiles.json", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-CleverTap-Account-Id", "ACC-1")
	req.Header.Set("X-CleverTap-Passcode", "pass-a")
	resp, err := client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("got HTTP %d, want a connection error", resp.StatusCode)
	}
	if ts.Stats().Faults["reset"] != 1 {
		t.Errorf("Faults = %v", ts.Stats().Faults)
	}
}

func TestFaultSlow(t *testing.T) {
	t.Run("client times out", func(t *testing.T) {
		ts := mustSim(t, nil, Options{})
		ts.InjectFault("profile", 1, FaultSlow)
		client := &http.Client{Timeout: 100 * time.Millisecond}
		req, err := http.NewRequestWithContext(t.Context(), "GET", ts.url+"/1/profile.json?identity=u-1", nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("X-CleverTap-Account-Id", "ACC-1")
		req.Header.Set("X-CleverTap-Passcode", "pass-a")
		_, err = client.Do(req)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("got %v, want a timeout", err)
		}
		// The slow request gave its slot back once the client left.
		ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).wantSuccess(t)
	})
	t.Run("bounded", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			s, err := New(fixture(), Options{})
			if err != nil {
				t.Fatal(err)
			}
			s.InjectFault("profile", 1, FaultSlow)
			start := time.Now()
			rec := serve(s, httptest.NewRequest("GET", "/1/profile.json?identity=u-1", nil))
			if d := time.Since(start); rec.Code != 200 || d != SlowFaultDuration {
				t.Errorf("slow request: HTTP %d after %v, want 200 after %v", rec.Code, d, SlowFaultDuration)
			}
		})
	})
}

func TestRandomFaultsDeterministic(t *testing.T) {
	run := func(seed int64) []int {
		ts := mustSim(t, nil, Options{FaultSeed: seed, FaultRate: 0.3, FaultKinds: []Fault{Fault500, Fault503, Fault429}})
		var out []int
		for range 100 {
			out = append(out, ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).status)
		}
		st := ts.Stats()
		faulted := 0
		for _, s := range out {
			if s != 200 {
				faulted++
			}
		}
		if total := st.Faults["500"] + st.Faults["503"] + st.Faults["429"]; total != int64(faulted) {
			t.Errorf("seed %d: Faults %v, but %d replies failed", seed, st.Faults, faulted)
		}
		if faulted < 15 || faulted > 45 {
			t.Errorf("seed %d: %d of 100 faulted at rate 0.3", seed, faulted)
		}
		return out
	}
	a, b, c := run(7), run(7), run(8)
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different faults:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 7 and 8 gave the same faults")
	}
}
