package ctsim

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// mustSimHold is mustSim with g holding requests in flight; the hook is set
// before the server starts, and g opens before the server closes, even
// when the test stops early.
func mustSimHold(tb testing.TB, opts Options, g *gate) *testSim {
	tb.Helper()
	s, err := New(fixture(), opts)
	if err != nil {
		tb.Fatal(err)
	}
	s.hold = g.hold
	ts := httptest.NewServer(s)
	tb.Cleanup(ts.Close)
	tb.Cleanup(g.open) // runs first
	return &testSim{Server: s, url: ts.URL}
}

// gate holds the first n requests of one group in flight until released;
// later ones pass, so a limiter that admits too many fails the test
// instead of hanging it.
type gate struct {
	group   string
	mu      sync.Mutex
	n       int
	entered chan struct{}
	release chan struct{}
	once    sync.Once
}

// open lets every held request go on.
func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

func newGate(group string, n int) *gate {
	return &gate{group: group, n: n, entered: make(chan struct{}, n), release: make(chan struct{})}
}

func (g *gate) hold(group string) {
	if group != g.group {
		return
	}
	g.mu.Lock()
	if g.n == 0 {
		g.mu.Unlock()
		return
	}
	g.n--
	g.mu.Unlock()
	g.entered <- struct{}{}
	<-g.release
}

func TestConcurrencyLimit(t *testing.T) {
	tests := []struct {
		group, method, path string
		body                any
		opts                Options
		limit               int
	}{
		{"events", "POST", "/1/events.json", cqlBody("Charged"), Options{}, 3},
		{"delete", "POST", "/1/delete/profiles.json", map[string]any{"identity": "u-9"}, Options{}, 3},
		{"profile", "GET", "/1/profile.json?identity=u-1", nil, Options{}, 3},
		{"profiles", "GET", "/1/profile.json?identity=u-1", nil, Options{SharedProfilePool: true}, 3},
		{"events", "POST", "/1/events.json", cqlBody("Charged"), Options{Limits: map[string]int{"events": 1}}, 1},
		{"profiles", "POST", "/1/profiles.json", cqlBody("Charged"), Options{Limits: map[string]int{"profiles": 5}}, 5},
	}
	for _, tt := range tests {
		t.Run(tt.group, func(t *testing.T) {
			g := newGate(tt.group, tt.limit)
			ts := mustSimHold(t, tt.opts, g)
			var wg sync.WaitGroup
			results := make(chan reply, tt.limit)
			for range tt.limit {
				wg.Go(func() { results <- ts.do(t, tt.method, tt.path, tt.body) })
			}
			for range tt.limit {
				<-g.entered
			}
			// limit requests are in flight: the next one is refused at once.
			r := ts.do(t, tt.method, tt.path, tt.body)
			if r.status != 429 || r.raw != `{"status":"fail","error":"Too many concurrent requests","code":429}` {
				t.Errorf("limit+1: got HTTP %d %s", r.status, r.raw)
			}
			for _, h := range []string{"Retry-After", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"} {
				if v := r.header.Get(h); v != "" {
					t.Errorf("429 carries %s: %q", h, v)
				}
			}
			// Other groups are not affected.
			other := "/1/events.json?cursor=none"
			if tt.group == "events" {
				other = "/1/profile.json?identity=u-2"
			}
			if r := ts.do(t, "GET", other, nil); r.status == 429 {
				t.Errorf("another group got 429: %s", r.raw)
			}
			g.open()
			wg.Wait()
			close(results)
			for r := range results {
				if r.status != 200 {
					t.Errorf("held request: HTTP %d %s", r.status, r.raw)
				}
			}
			st := ts.Stats()
			if st.MaxInFlight[tt.group] != tt.limit || st.TooMany[tt.group] != 1 || st.Calls[tt.group] != int64(tt.limit+1) {
				t.Errorf("stats for %s: max in flight %d, too many %d, calls %d; want %d, 1, %d",
					tt.group, st.MaxInFlight[tt.group], st.TooMany[tt.group], st.Calls[tt.group], tt.limit, tt.limit+1)
			}
			// Slots come back: a new request passes.
			if r := ts.do(t, tt.method, tt.path, tt.body); r.status != 200 {
				t.Errorf("after release: HTTP %d %s", r.status, r.raw)
			}
		})
	}
}

func TestConcurrencyStress(t *testing.T) {
	// Many clients at once against a short latency: whatever the
	// interleaving, no more than the limit is ever in flight, and every
	// request is either served or refused with 429.
	ts := mustSim(t, nil, Options{Latency: map[string]time.Duration{"profile": 2 * time.Millisecond}})
	const n = 60
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for range n {
		wg.Go(func() {
			r := ts.do(t, "GET", "/1/profile.json?identity=u-1", nil)
			mu.Lock()
			codes[r.status]++
			mu.Unlock()
		})
	}
	wg.Wait()
	st := ts.Stats()
	if codes[200]+codes[429] != n || st.Calls["profile"] != n || st.TooMany["profile"] != int64(codes[429]) {
		t.Errorf("codes %v, stats %+v", codes, st)
	}
	if m := st.MaxInFlight["profile"]; m < 1 || m > 3 {
		t.Errorf("MaxInFlight = %d, want 1..3", m)
	}
	ts.ResetStats()
	if st := ts.Stats(); len(st.Calls) != 0 || len(st.MaxInFlight) != 0 {
		t.Errorf("after ResetStats: %+v", st)
	}
}

func TestSticky429(t *testing.T) {
	g := newGate("delete", 1)
	ts := mustSimHold(t, Options{Limits: map[string]int{"delete": 1}, Sticky429: 10 * time.Minute}, g)
	body := map[string]any{"guid": "x"}
	done := make(chan reply)
	go func() { done <- ts.do(t, "POST", "/1/delete/profiles.json", body) }()
	<-g.entered
	ts.do(t, "POST", "/1/delete/profiles.json", body).wantFail(t, 429, 429, msgTooMany)
	g.open()
	(<-done).wantSuccess(t)
	// Nothing is in flight, but the group stays closed for the window.
	ts.Advance(10*time.Minute - time.Second)
	ts.do(t, "POST", "/1/delete/profiles.json", body).wantFail(t, 429, 429, msgTooMany)
	ts.do(t, "GET", "/1/profile.json?identity=u-1", nil).wantSuccess(t) // other groups are open
	ts.Advance(time.Second)
	ts.do(t, "POST", "/1/delete/profiles.json", body).wantSuccess(t)
}

// serve calls s directly, for tests on a fake clock (synctest), where a
// real listener cannot be used.
func serve(s *Server, req *http.Request) *httptest.ResponseRecorder {
	req.Header.Set("X-CleverTap-Account-Id", "ACC-1")
	req.Header.Set("X-CleverTap-Passcode", "pass-a")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

func TestLatency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(fixture(), Options{Latency: map[string]time.Duration{"profile": 200 * time.Millisecond}})
		if err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		if rec := serve(s, httptest.NewRequest("GET", "/1/profile.json?identity=u-1", nil)); rec.Code != 200 {
			t.Fatalf("HTTP %d", rec.Code)
		}
		if d := time.Since(start); d != 200*time.Millisecond {
			t.Errorf("profile took %v, want 200ms", d)
		}
		start = time.Now()
		serve(s, httptest.NewRequest("GET", "/1/events.json?cursor=x", nil))
		if d := time.Since(start); d != 0 {
			t.Errorf("events (no latency set) took %v", d)
		}
		// A cancelled request stops waiting.
		ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
		defer cancel()
		start = time.Now()
		serve(s, httptest.NewRequestWithContext(ctx, "GET", "/1/profile.json?identity=u-1", nil))
		if d := time.Since(start); d != 50*time.Millisecond {
			t.Errorf("cancelled request took %v, want 50ms", d)
		}
	})
}

func TestLeakyBucket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s, err := New(fixture(), Options{RPS: 2})
		if err != nil {
			t.Fatal(err)
		}
		get := func() int { return serve(s, httptest.NewRequest("GET", "/1/profile.json?identity=u-1", nil)).Code }
		var got []int
		for _, wait := range []time.Duration{0, 0, 0, 500 * time.Millisecond, 0, time.Second, 0, 0} {
			time.Sleep(wait)
			got = append(got, get())
		}
		want := []int{200, 200, 429, 200, 429, 200, 200, 429}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("statuses %v, want %v", got, want)
			}
		}
		if st := s.Stats(); st.TooMany["profile"] != 3 {
			t.Errorf("TooMany = %v, want 3", st.TooMany)
		}
	})
}
