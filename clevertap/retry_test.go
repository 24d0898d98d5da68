package clevertap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"
)

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

var _ net.Error = timeoutErr{}

func TestShouldRetry(t *testing.T) {
	reset := fmt.Errorf("clevertap: profile: GET /1/profile.json: %w",
		&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)})
	tests := []struct {
		name   string
		ctxErr error
		err    error
		want   bool
	}{
		{"nil error", nil, nil, false},
		{"429", nil, &APIError{HTTPStatus: 429, kind: ErrRateLimited}, true},
		{"200 code 429", nil, &APIError{HTTPStatus: 200, Code: 429, kind: ErrRateLimited}, true},
		{"500", nil, &APIError{HTTPStatus: 500, kind: ErrServer}, true},
		{"502", nil, &APIError{HTTPStatus: 502, kind: ErrServer}, true},
		{"503", nil, &APIError{HTTPStatus: 503, kind: ErrServer}, true},
		{"200 fail code 500", nil, &APIError{HTTPStatus: 200, Code: 500, kind: ErrServer}, true},
		{"501", nil, &APIError{HTTPStatus: 501, kind: ErrServer}, false},
		{"200 malformed body", nil, &APIError{HTTPStatus: 200, kind: ErrServer}, false},
		{"202 not ready", nil, &APIError{HTTPStatus: 202, Code: 2, kind: ErrNotReady}, true},
		{"200 code 2", nil, &APIError{HTTPStatus: 200, Code: 2, kind: ErrNotReady}, true},
		{"401", nil, &APIError{HTTPStatus: 401, kind: ErrUnauthorized}, false},
		{"403", nil, &APIError{HTTPStatus: 403, kind: ErrUnauthorized}, false},
		{"400", nil, &APIError{HTTPStatus: 400, kind: ErrInvalidRequest}, false},
		{"404 not found", nil, &APIError{HTTPStatus: 404, kind: ErrNotFound}, false},
		{"filter rejected", nil, &APIError{HTTPStatus: 400, kind: ErrFilterRejected}, false},
		{"bad cursor", nil, &APIError{HTTPStatus: 200, Code: 400, kind: ErrCursor}, false},
		{"redirect", nil, &APIError{HTTPStatus: 302, kind: ErrConfig}, false},
		{"404 that is not CleverTap", nil, &APIError{HTTPStatus: 404, kind: ErrConfig}, false},
		{"502 page from a server that never answered JSON", nil, &APIError{HTTPStatus: 502, kind: ErrConfig}, false},
		{"answer over its cap", nil, &APIError{HTTPStatus: 200, kind: ErrTooLarge}, false},
		{"step 1 pending (202)", nil, &APIError{HTTPStatus: 202, kind: ErrNotReady}, true},
		{"ambiguous lookup", nil, &APIError{HTTPStatus: 200, Code: 400, kind: ErrAmbiguous}, false},
		{"connection reset", nil, reset, true},
		{"EOF", nil, fmt.Errorf("wrapped: %w", io.EOF), true},
		{"unexpected EOF", nil, io.ErrUnexpectedEOF, true},
		{"broken pipe", nil, syscall.EPIPE, true},
		{"net timeout", nil, &net.OpError{Op: "dial", Err: timeoutErr{}}, true},
		{"client timeout (DeadlineExceeded, caller alive)", nil, fmt.Errorf("x: %w", context.DeadlineExceeded), true},
		{"connection refused (a restarting load balancer)", nil, syscall.ECONNREFUSED, true},
		{"other transport error", nil, errors.New("tls: bad certificate"), false},
		{"caller cancelled", context.Canceled, reset, false},
		{"caller deadline", context.DeadlineExceeded, fmt.Errorf("x: %w", context.DeadlineExceeded), false},
		{"caller cancelled during 503", context.Canceled, &APIError{HTTPStatus: 503, kind: ErrServer}, false},
		{"limiter: deadline too near", nil, fmt.Errorf("%w: %w", errDeadlineTooNear, context.DeadlineExceeded), false},
		{"retry error is final", nil, &RetryError{Attempts: 3, Err: &APIError{HTTPStatus: 401, kind: ErrUnauthorized}}, false},
	}
	for _, tt := range tests {
		if got := shouldRetry(tt.ctxErr, tt.err); got != tt.want {
			t.Errorf("%s: shouldRetry(%v, %v) = %v, want %v", tt.name, tt.ctxErr, tt.err, got, tt.want)
		}
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{MaxAttempts: 8, BaseDelay: 250 * time.Millisecond, MaxDelay: 30 * time.Second}
	tests := []struct {
		attempt    int
		retryAfter time.Duration
		rnd        float64
		want       time.Duration
	}{
		{1, 0, 1, 250 * time.Millisecond},
		{2, 0, 1, 500 * time.Millisecond},
		{3, 0, 1, time.Second},
		{3, 0, 0.5, 500 * time.Millisecond},
		{3, 0, 0, 0},                // full jitter reaches zero
		{8, 0, 1, 30 * time.Second}, // 32s capped
		{8, 0, 0.25, 7500 * time.Millisecond},
		{70, 0, 1, 30 * time.Second},               // no shift overflow
		{200, 0, 1, 30 * time.Second},              // no shift overflow
		{0, 0, 1, 30 * time.Second},                // nonsense attempt: the cap, not a panic
		{1, 0, 7, 250 * time.Millisecond},          // rnd clamped
		{1, 0, -1, 0},                              // rnd clamped
		{1, 5 * time.Second, 0, 5 * time.Second},   // Retry-After wins, even above the jitter
		{1, 90 * time.Second, 0, 90 * time.Second}, // and above MaxDelay
		{1, time.Hour, 0, maxRetryAfter},           // but is bounded
	}
	for _, tt := range tests {
		if got := backoff(tt.attempt, p, tt.retryAfter, tt.rnd); got != tt.want {
			t.Errorf("backoff(%d, %v, rnd %v) = %v, want %v", tt.attempt, tt.retryAfter, tt.rnd, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		value string
		want  time.Duration
	}{
		{"", 0},
		{"7", 7 * time.Second},
		{"0", 0},
		{"-3", 0},
		{"99999", maxRetryAfter},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0},
		{"soon", 0},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.value != "" {
			h.Set("Retry-After", tt.value)
		}
		if got := parseRetryAfter(h, now); got != tt.want {
			t.Errorf("parseRetryAfter(%q) = %v, want %v", tt.value, got, tt.want)
		}
	}
}

// fakeTransport answers from a function, without a network, so retry and
// wait logic can run inside a synctest bubble.
type fakeTransport struct {
	mu    sync.Mutex
	calls int
	fn    func(n int, r *http.Request) (*http.Response, error)
}

func (f *fakeTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	f.mu.Lock()
	f.calls++
	n := f.calls
	f.mu.Unlock()
	return f.fn(n, r)
}

func (f *fakeTransport) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

func canned(status int, body string, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

const (
	body503 = `{"status":"fail","error":"Service Unavailable","code":503}`
	body429 = `{"status":"fail","error":"Too many concurrent requests","code":429}`
	bodyOK  = `{"status":"success"}`
)

func fakeClient(tb testing.TB, ft *fakeTransport, opts ...Option) *Client {
	tb.Helper()
	base := []Option{WithBaseURL("https://api.example.test"), WithCredentials(testAccount, testPasscode),
		WithHTTPClient(&http.Client{Transport: ft})}
	c := mustClient(tb, append(base, opts...)...)
	c.jitter = func() float64 { return 1 } // the full backoff ceiling, deterministic
	return c
}

func TestBackoffTimingUnderSynctest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(n int, _ *http.Request) (*http.Response, error) {
			if n <= 3 {
				return canned(503, body503), nil
			}
			return canned(200, bodyOK), nil
		}}
		c := fakeClient(t, ft, WithRetry(RetryPolicy{MaxAttempts: 5, BaseDelay: time.Second, MaxDelay: 3 * time.Second}))
		start := time.Now()
		if err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g1"}}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		// 1s + 2s + min(4s, 3s) with jitter at its ceiling.
		if got, want := time.Since(start), 6*time.Second; got != want {
			t.Errorf("took %v of fake time, want %v", got, want)
		}
		st := c.Stats()
		if st.Attempts[GroupDelete] != 4 || st.Retries[GroupDelete] != 3 || st.Calls[GroupDelete] != 1 {
			t.Errorf("stats: calls %d attempts %d retries %d, want 1, 4, 3",
				st.Calls[GroupDelete], st.Attempts[GroupDelete], st.Retries[GroupDelete])
		}
	})
}

func TestRetryAfterIsHonoured(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(n int, _ *http.Request) (*http.Response, error) {
			if n == 1 {
				return canned(429, body429, "Retry-After", "42"), nil
			}
			return canned(200, bodyOK), nil
		}}
		c := fakeClient(t, ft)
		start := time.Now()
		if err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g1"}}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if got := time.Since(start); got != 42*time.Second {
			t.Errorf("waited %v, want the 42s Retry-After asked", got)
		}
		if st := c.Stats(); st.RateLimited[GroupDelete] != 1 {
			t.Errorf("RateLimited = %d, want 1", st.RateLimited[GroupDelete])
		}
	})
}

func TestGivingUpSaysHowManyAttempts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(int, *http.Request) (*http.Response, error) { return canned(503, body503), nil }}
		c := fakeClient(t, ft, WithRetry(RetryPolicy{MaxAttempts: 4}))
		err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g1"}})
		var re *RetryError
		if !errors.As(err, &re) || re.Attempts != 4 || !errors.Is(err, ErrServer) {
			t.Fatalf("err = %v, want a RetryError after 4 attempts wrapping ErrServer", err)
		}
		if !strings.HasPrefix(err.Error(), "after 4 attempts: ") {
			t.Errorf("message %q does not say how many attempts", err)
		}
		if ft.count() != 4 {
			t.Errorf("%d requests sent, want 4", ft.count())
		}
	})
}

func TestCancelDuringBackoffReturnsTheContextError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(int, *http.Request) (*http.Response, error) { return canned(503, body503), nil }}
		c := fakeClient(t, ft, WithRetry(RetryPolicy{BaseDelay: time.Minute, MaxDelay: time.Hour}))
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() { done <- c.Delete(ctx, DeleteRequest{GUIDs: []string{"g1"}}) }()
		time.Sleep(30 * time.Second) // inside the first one-minute backoff
		cancel()
		err := <-done
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrServer) {
			t.Errorf("err = %v, want the context's error only", err)
		}
		if ft.count() != 1 {
			t.Errorf("%d requests sent, want 1", ft.count())
		}
	})
}

func TestCallerDeadlineIsNotRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The transport blocks until the request's context ends.
		ft := &fakeTransport{fn: func(_ int, r *http.Request) (*http.Response, error) {
			<-r.Context().Done()
			return nil, r.Context().Err()
		}}
		c := fakeClient(t, ft)
		ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
		defer cancel()
		err := c.Delete(ctx, DeleteRequest{GUIDs: []string{"g1"}})
		var re *RetryError
		if !errors.Is(err, context.DeadlineExceeded) || errors.As(err, &re) {
			t.Errorf("err = %v, want the caller's deadline, not a retry", err)
		}
		if ft.count() != 1 {
			t.Errorf("%d attempts, want 1", ft.count())
		}
	})
}

func TestTransportTimeoutIsRetried(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(n int, r *http.Request) (*http.Response, error) {
			if n == 1 {
				<-r.Context().Done() // http.Client.Timeout fires
				return nil, r.Context().Err()
			}
			return canned(200, bodyOK), nil
		}}
		c := fakeClient(t, ft)
		c.hc.Timeout = 10 * time.Second
		if err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g1"}}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if ft.count() != 2 {
			t.Errorf("%d attempts, want 2", ft.count())
		}
	})
}

// countingLimiter counts waits and can fail them.
type countingLimiter struct {
	mu    sync.Mutex
	waits int
	err   error
}

func (l *countingLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.waits++
	return l.err
}

func TestEveryAttemptWaitsOnTheLimiter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(n int, _ *http.Request) (*http.Response, error) {
			if n <= 2 {
				return canned(429, body429), nil
			}
			return canned(200, bodyOK), nil
		}}
		lim := &countingLimiter{}
		c := fakeClient(t, ft, WithRateLimiter(lim))
		if err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g1"}}); err != nil {
			t.Fatalf("Delete: %v", err)
		}
		if lim.waits != 3 || ft.count() != 3 {
			t.Errorf("%d limiter waits for %d attempts, want 3 and 3", lim.waits, ft.count())
		}
	})
}

func TestLimiterDeadlineTooNearIsTheCallersDeadline(t *testing.T) {
	ft := &fakeTransport{fn: func(int, *http.Request) (*http.Response, error) { return canned(200, bodyOK), nil }}
	lim := &countingLimiter{err: errors.New("rate: Wait(n=1) would exceed context deadline")}
	c := fakeClient(t, ft, WithRateLimiter(lim))
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	err := c.Delete(ctx, DeleteRequest{GUIDs: []string{"g1"}})
	if !errors.Is(err, context.DeadlineExceeded) || lim.waits != 1 || ft.count() != 0 {
		t.Errorf("err = %v after %d waits and %d requests; want DeadlineExceeded, 1, 0", err, lim.waits, ft.count())
	}

	// Without a deadline the limiter's failure is its own, and final.
	lim.waits = 0
	err = c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g1"}})
	if err == nil || errors.Is(err, context.DeadlineExceeded) || lim.waits != 1 {
		t.Errorf("err = %v after %d waits; want a plain limiter error after 1", err, lim.waits)
	}
}

func TestAFinalErrorAfterRetriesCountsEveryAttempt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ft := &fakeTransport{fn: func(n int, _ *http.Request) (*http.Response, error) {
			if n == 1 {
				return canned(503, body503), nil
			}
			return canned(400, `{"status":"fail","error":"bad guid","code":400}`), nil
		}}
		c := fakeClient(t, ft)
		err := c.Delete(t.Context(), DeleteRequest{GUIDs: []string{"g1"}})
		var re *RetryError
		if !errors.As(err, &re) || re.Attempts != 2 || !errors.Is(err, ErrInvalidRequest) || errors.Is(err, ErrServer) {
			t.Errorf("err = %v, want a RetryError after 2 attempts wrapping the 400", err)
		}
	})
}
