package clevertap

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

const (
	testAccount  = "TEST-ACCOUNT"
	testPasscode = Passcode("pc-7f3a91-do-not-print")
)

// setup serves h over real HTTP and returns a client for it that retries
// up to 3 attempts without sleeping (backoff timing is tested in synctest).
func setup(tb testing.TB, h http.Handler, opts ...Option) *Client {
	tb.Helper()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	base := []Option{
		WithBaseURL(srv.URL),
		WithCredentials(testAccount, testPasscode),
		WithRetry(RetryPolicy{MaxAttempts: 3}),
	}
	c := mustClient(tb, append(base, opts...)...)
	c.jitter = func() float64 { return 0 }
	return c
}

func mustClient(tb testing.TB, opts ...Option) *Client {
	tb.Helper()
	c, err := NewClient(opts...)
	if err != nil {
		tb.Fatalf("NewClient: %v", err)
	}
	return c
}

// seen is one request as the server received it.
type seen struct {
	Method, Path, RawQuery, ContentType string
	AccountID, Passcode                 string
	Body                                string
}

// recorder records every request and answers with fn.
type recorder struct {
	mu   sync.Mutex
	reqs []seen
	fn   func(w http.ResponseWriter, r *http.Request, n int) // n: 1-based request number
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, seen{
		Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, ContentType: r.Header.Get("Content-Type"),
		AccountID: r.Header.Get("X-CleverTap-Account-Id"), Passcode: r.Header.Get("X-CleverTap-Passcode"),
		Body: string(b),
	})
	n := len(rec.reqs)
	rec.mu.Unlock()
	rec.fn(w, r, n)
}

func (rec *recorder) requests() []seen {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]seen(nil), rec.reqs...)
}

// redirectTarget is where write's redirects point; its query holds an email
// that no error may repeat.
const redirectTarget = "https://elsewhere.example.net/1/profile.json?email=someone%40example.com"

// reply answers every request with status and body.
func reply(status int, body string) *recorder {
	return &recorder{fn: func(w http.ResponseWriter, _ *http.Request, _ int) { write(w, status, body) }}
}

func write(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json;charset=utf-8")
	if status >= 300 && status < 400 {
		w.Header().Set("Location", redirectTarget)
	}
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

// collect drains an event export.
func collect(ctx context.Context, c *Client, q EventQuery) ([]EventRecord, int, error) {
	var all []EventRecord
	pages := 0
	for page, err := range c.Events(ctx, q) {
		if err != nil {
			return all, pages, err
		}
		pages++
		all = append(all, page...)
	}
	return all, pages, nil
}

var sentinels = []error{ErrNotFound, ErrUnauthorized, ErrConfig, ErrRateLimited, ErrInvalidRequest,
	ErrServer, ErrFilterRejected, ErrNotReady, ErrCursor, ErrAmbiguous, ErrTooLarge}

// matching lists the sentinels err matches.
func matching(err error) []error {
	var out []error
	for _, s := range sentinels {
		if errors.Is(err, s) {
			out = append(out, s)
		}
	}
	return out
}

// answer is an HTTP answer for checkResponse, without a network.
func answer(status int, body string, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json;charset=utf-8"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}
