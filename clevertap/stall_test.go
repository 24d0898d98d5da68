package clevertap

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// silent is a transport to a server that accepted the connection and never
// answers: every request blocks until its context ends.
func silent() *fakeTransport {
	return &fakeTransport{fn: func(_ int, r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	}}
}

// With the default timeouts and no breaker, one call against a silent
// server gives up after 8 attempts of 30 s plus the backoffs between them.
func TestSilentServerOneCallIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := silent()
		c := fakeClient(t, ft, WithBreaker(0, 0))
		start := time.Now()
		_, err := c.Profile(t.Context(), ByIdentity, "u-1")
		// 8 × 30 s, and backoffs of 0.25+0.5+1+2+4+8+16 s with jitter at its ceiling.
		if got, want := time.Since(start), 8*DefaultRequestTimeout+31750*time.Millisecond; got != want {
			t.Errorf("gave up after %v, want %v", got, want)
		}
		var re *RetryError
		var ne net.Error
		if !errors.As(err, &re) || re.Attempts != 8 || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("err = %v, want a RetryError after 8 timed-out attempts", err)
		}
		if errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "no complete answer within 30s") {
			t.Errorf("err = %v: an attempt timeout must say so, and not pass for the caller's deadline", err)
		}
		if ft.count() != 8 {
			t.Errorf("%d requests, want 8", ft.count())
		}
	})
}

// With the default breaker, the fifth timed-out attempt opens it: the call
// ends with ErrUnreachable and the next call fails without a request.
func TestSilentServerTripsTheBreaker(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := silent()
		c := fakeClient(t, ft)
		start := time.Now()
		_, err := c.Profile(t.Context(), ByIdentity, "u-1")
		if got, want := time.Since(start), 5*DefaultRequestTimeout+3750*time.Millisecond; got != want {
			t.Errorf("first call ended after %v, want %v", got, want)
		}
		if !errors.Is(err, ErrUnreachable) || ft.count() != 5 {
			t.Fatalf("err = %v after %d requests, want ErrUnreachable after 5", err, ft.count())
		}
		if !strings.Contains(err.Error(), "no complete answer within 30s") {
			t.Errorf("err = %v does not name the last failure", err)
		}
		start = time.Now()
		err = c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g"}})
		if !errors.Is(err, ErrUnreachable) || time.Since(start) != 0 || ft.count() != 5 {
			t.Errorf("second call: %v after %v and %d requests; want ErrUnreachable at once", err, time.Since(start), ft.count())
		}
	})
}

// Sixteen workers against a silent server: K = 2 attempts at a time, so
// the breaker opens after three rounds of timeouts and every call ends
// within two minutes.
func TestSilentServerManyWorkers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := silent()
		c := fakeClient(t, ft)
		start := time.Now()
		var wg sync.WaitGroup
		errs := make([]error, 16)
		took := make([]time.Duration, 16)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = c.Profile(t.Context(), ByIdentity, "u-1")
				took[i] = time.Since(start)
			})
		}
		wg.Wait()
		for i, err := range errs {
			if !errors.Is(err, ErrUnreachable) {
				t.Errorf("worker %d: %v, want ErrUnreachable", i, err)
			}
			if took[i] > 2*time.Minute {
				t.Errorf("worker %d ended after %v, want within 2 minutes", i, took[i])
			}
		}
		if n := ft.count(); n > 8 {
			t.Errorf("%d requests sent, want at most 8 (K = 2 per round)", n)
		}
	})
}

// An answer, any answer, keeps the breaker closed: a server that refuses
// with 503 is reachable.
func TestAnswersKeepTheBreakerClosed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(n int, r *http.Request) (*http.Response, error) {
			if n%2 == 0 {
				return canned(503, body503), nil
			}
			<-r.Context().Done()
			return nil, r.Context().Err()
		}}
		c := fakeClient(t, ft, WithRetry(RetryPolicy{MaxAttempts: 2}))
		for range 6 {
			if _, err := c.Profile(t.Context(), ByIdentity, "u-1"); errors.Is(err, ErrUnreachable) || err == nil {
				t.Fatalf("Profile = %v, want a timeout or a 503, not ErrUnreachable", err)
			}
		}
	})
}

// A server that accepts connections and never answers, over real TCP, with
// 50 ms attempts.
func TestSilentListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	var mu sync.Mutex
	var conns []net.Conn
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, conn) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	c := mustClient(t, WithBaseURL("http://"+ln.Addr().String()), WithCredentials(testAccount, testPasscode),
		WithRequestTimeout(50*time.Millisecond), WithRetry(RetryPolicy{MaxAttempts: 3, BaseDelay: time.Millisecond, MaxDelay: 2 * time.Millisecond}),
		WithBreaker(time.Hour, 5))

	_, err = c.Profile(t.Context(), ByEmail, "someone@example.com")
	var re *RetryError
	var ne net.Error
	if !errors.As(err, &re) || re.Attempts != 3 || !errors.As(err, &ne) || !ne.Timeout() || errors.Is(err, ErrUnreachable) {
		t.Fatalf("first call: %v, want a RetryError after 3 timed-out attempts", err)
	}
	if strings.Contains(err.Error(), "someone") {
		t.Errorf("error %q repeats the email", err)
	}
	// Attempts 4 and 5 time out, the fifth opens the breaker, and the
	// call's third attempt is refused without a request.
	_, err = c.Profile(t.Context(), ByEmail, "someone@example.com")
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("second call: %v, want ErrUnreachable", err)
	}
	_, err = c.Profile(t.Context(), ByEmail, "someone@example.com")
	if !errors.Is(err, ErrUnreachable) {
		t.Fatalf("third call: %v, want ErrUnreachable", err)
	}
	if got := c.Stats().Attempts[GroupProfile]; got != 5 {
		t.Errorf("%d attempts sent, want 5: an open breaker sends nothing", got)
	}
}

func TestBreaker(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	type step struct {
		at       time.Duration // since t0
		answered bool          // or a network failure
	}
	tests := []struct {
		name     string
		steps    []step
		check    time.Duration // when allow is asked
		wantOpen bool
	}{
		{"four failures are not enough", []step{{1, false}, {2, false}, {3, false}, {4, false}}, 5, false},
		{"five failures, never answered", []step{{1, false}, {2, false}, {3, false}, {4, false}, {5, false}}, 6, true},
		{"an answer in between", []step{{1, false}, {2, false}, {3, true}, {4, false}, {5, false}, {6, false}, {7, false}}, 8, false},
		{"answered less than a window ago", []step{{0, true}, {10, false}, {20, false}, {30, false}, {40, false}, {50, false}}, 60, false},
		{"the window since the answer passes", []step{{0, true}, {10, false}, {20, false}, {30, false}, {40, false}, {50, false}, {120, false}}, 121, true},
		{"open for one window", []step{{1, false}, {2, false}, {3, false}, {4, false}, {5, false}}, 5 + 120 - 1, true},
		{"then half open", []step{{1, false}, {2, false}, {3, false}, {4, false}, {5, false}}, 5 + 120, false},
		{"a failure while half open opens it again", []step{{1, false}, {2, false}, {3, false}, {4, false}, {5, false}, {125, false}}, 126, true},
		{"an answer while half open closes it", []step{{1, false}, {2, false}, {3, false}, {4, false}, {5, false}, {125, true}, {126, false}}, 127, false},
	}
	for _, tt := range tests {
		now := t0
		b := &breaker{window: 120 * time.Second, min: 5, now: func() time.Time { return now }}
		for _, s := range tt.steps {
			now = t0.Add(s.at * time.Second)
			if s.answered {
				b.answered()
			} else {
				b.failed(errors.New("connection refused"))
			}
		}
		now = t0.Add(tt.check * time.Second)
		err := b.allow("profile")
		if gotOpen := err != nil; gotOpen != tt.wantOpen || (err != nil && !errors.Is(err, ErrUnreachable)) {
			t.Errorf("%s: allow() = %v, want open %v", tt.name, err, tt.wantOpen)
		}
	}
	var disabled *breaker
	disabled.failed(errors.New("x"))
	if err := disabled.allow("profile"); err != nil {
		t.Errorf("a disabled breaker refused: %v", err)
	}
}

// No wait outlives the caller's deadline: a backoff or a Retry-After that
// would end after it is not started.
func TestWaitsNeverOutliveTheDeadline(t *testing.T) {
	tests := []struct {
		name       string
		answer     func() *http.Response
		deadline   time.Duration // 0: none
		retry      RetryPolicy
		wantWait   time.Duration // fake time the call took
		wantErr    error         // besides DeadlineExceeded, when the deadline ends it
		wantFinish bool          // the call succeeded on its second attempt
	}{
		{"backoff past the deadline", func() *http.Response { return canned(503, body503) }, 10 * time.Second,
			RetryPolicy{BaseDelay: time.Minute, MaxDelay: time.Minute}, 0, ErrServer, false},
		{"Retry-After of a day, capped, still past the deadline", func() *http.Response { return canned(429, body429, "Retry-After", "86400") }, 5 * time.Minute,
			RetryPolicy{}, 0, ErrRateLimited, false},
		{"Retry-After within the deadline is waited", func() *http.Response { return canned(429, body429, "Retry-After", "30") }, 5 * time.Minute,
			RetryPolicy{}, 30 * time.Second, nil, true},
		{"Retry-After of a day without a deadline waits the cap", func() *http.Response { return canned(429, body429, "Retry-After", "86400") }, 0,
			RetryPolicy{}, maxRetryAfter, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ft := &fakeTransport{fn: func(n int, _ *http.Request) (*http.Response, error) {
					if n == 1 {
						return tt.answer(), nil
					}
					return canned(200, bodyOK), nil
				}}
				c := fakeClient(t, ft, WithRetry(tt.retry))
				ctx := t.Context()
				if tt.deadline > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.deadline)
					defer cancel()
				}
				start := time.Now()
				err := c.Delete(ctx, DeleteRequest{GUIDs: []string{"g"}})
				if got := time.Since(start); got != tt.wantWait {
					t.Errorf("took %v, want %v", got, tt.wantWait)
				}
				if tt.wantFinish {
					if err != nil || ft.count() != 2 {
						t.Errorf("err %v after %d requests, want success on the second", err, ft.count())
					}
					return
				}
				if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, tt.wantErr) || ft.count() != 1 {
					t.Errorf("err = %v after %d requests; want DeadlineExceeded and %v after 1", err, ft.count(), tt.wantErr)
				}
				if shouldRetry(nil, err) {
					t.Errorf("shouldRetry(%v) = true; the caller's deadline is final", err)
				}
			})
		})
	}
}

// An answer that starts and then stalls is bounded by the same per-attempt
// timeout, for a profile and for an event page (which has its own).
func TestStalledBodyTimesOut(t *testing.T) {
	stall := func(w http.ResponseWriter, r *http.Request, prefix string) {
		w.Header().Set("Content-Type", "application/json;charset=utf-8")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte(prefix))
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}
	rec := &recorder{fn: func(w http.ResponseWriter, r *http.Request, _ int) {
		switch {
		case r.URL.Path == "/1/profile.json":
			stall(w, r, `{"status":"success","record":{"email":`)
		case r.Method == http.MethodPost:
			write(w, 200, `{"status":"success","cursor":"c1"}`)
		default:
			stall(w, r, `{"status":"success","records":[`+eventRecordJSON(1)+`,`)
		}
	}}
	c := setup(t, rec, WithRequestTimeout(50*time.Millisecond), WithPageTimeout(80*time.Millisecond), WithBreaker(0, 0))
	_, err := c.Profile(t.Context(), ByIdentity, "u-1")
	var ne net.Error
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "within 50ms") {
		t.Errorf("profile: %v, want the 50 ms attempt timeout", err)
	}
	_, _, err = collect(t.Context(), c, EventQuery{EventName: "Charged", From: 20260101, To: 20260101})
	if !errors.As(err, &ne) || !ne.Timeout() || !strings.Contains(err.Error(), "GET /1/events.json: no complete answer within 80ms") {
		t.Errorf("page: %v, want the 80 ms page timeout", err)
	}
	if st := c.Stats(); st.Attempts[GroupProfile] != 3 || st.Attempts[GroupEvents] != 4 {
		t.Errorf("attempts %v, want 3 profile and 1+3 events", st.Attempts)
	}
}
