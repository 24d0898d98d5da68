package clevertap

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"
)

// Client calls CleverTap's server API. It is safe for concurrent use; all
// its callers together stay within the per-group quota.
type Client struct {
	baseURL string
	creds   *credentials // behind a pointer: formatting a Client never shows the passcode
	hc      *http.Client
	quota   Quota
	limiter Limiter
	retry   RetryPolicy
	log     *slog.Logger
	tz      *time.Location
	gates   map[Group]*gate
	stats   *counters
	jitter  func() float64 // in [0, 1); replaced in tests

	requestTimeout time.Duration // per attempt: profile, delete, step 1
	pageTimeout    time.Duration // per attempt: an event page
	brk            *breaker      // nil: disabled
	now            func() time.Time

	maxProfile int64       // cap on a profile answer
	maxRecord  int64       // cap on one record of an event page
	maxPage    int64       // cap on an event page
	sawJSON    atomic.Bool // the server has answered in JSON at least once
}

// NewClient returns a client configured by opts. WithCredentials is
// required; everything else has a default (region eu1, quota 3 × 0.75,
// 8 attempts, 30 s per attempt and 2 min per event page, the breaker after
// 5 network failures with nothing answered for 2 min, UTC, no logging).
func NewClient(opts ...Option) (*Client, error) {
	base, _ := DefaultRegion.BaseURL()
	c := &Client{
		baseURL: base,
		quota:   DefaultQuota(),
		retry:   RetryPolicy{}.withDefaults(),
		log:     slog.New(slog.DiscardHandler),
		tz:      time.UTC,
		jitter:  rand.Float64,

		requestTimeout: DefaultRequestTimeout,
		pageTimeout:    DefaultPageTimeout,
		now:            time.Now,
		brk:            &breaker{window: DefaultBreakerWindow, min: DefaultBreakerMinFailures},

		maxProfile: DefaultMaxProfileBytes,
		maxRecord:  DefaultMaxEventRecordBytes,
		maxPage:    DefaultMaxEventPageBytes,
	}
	for _, opt := range opts {
		if opt == nil {
			return nil, errors.New("clevertap: nil option")
		}
		if err := opt(c); err != nil {
			return nil, err
		}
	}
	if c.creds == nil {
		return nil, errors.New("clevertap: credentials are required (WithCredentials)")
	}
	if c.hc == nil {
		c.hc = defaultHTTPClient()
	}
	if c.brk != nil {
		c.brk.now = func() time.Time { return c.now() }
	}
	k := c.quota.PerGroup()
	c.gates = make(map[Group]*gate, len(groups))
	for _, g := range groups {
		c.gates[g] = newGate(k)
	}
	c.stats = newCounters()
	return c, nil
}

// String describes the client without its passcode.
func (c *Client) String() string {
	if c == nil || c.creds == nil {
		return "clevertap.Client{}"
	}
	return fmt.Sprintf("clevertap.Client{base: %s, account: %s, passcode: %s, per-group cap: %d}",
		c.baseURL, c.creds.accountID, redacted, c.quota.PerGroup())
}

// GoString is String, so %#v does not dump the fields.
func (c *Client) GoString() string { return c.String() }

// call is one logical API call: what to send and how to read refusals.
type call struct {
	op      string // names the call in errors and logs
	group   Group
	method  string
	path    string        // e.g. "/1/profile.json"; logged
	query   string        // raw, already encoded; never logged (it holds emails)
	secret  []string      // what the call sends that an error must not repeat (see redactMessage)
	body    []byte        // JSON, POST only
	limit   int64         // cap on a success answer's size
	timeout time.Duration // per attempt
	miss    bool          // a plain refusal means "no such profile"
	filter  bool          // a plain refusal means "profile filter rejected"
	cursor  bool          // a plain refusal means "bad cursor"
	pending bool          // HTTP 202 means "not ready yet" whatever the body says
}

// maxSmallBody caps the answers that carry no data: a delete's status, a
// step 1's cursor.
const maxSmallBody = 1 << 20

// do performs a call with retries, decoding a successful body into out.
// No wait outlives ctx: a backoff or Retry-After that would end after ctx's
// deadline is not started, and the call ends at once with an error that
// matches context.DeadlineExceeded as well as the last attempt's error.
func (c *Client) do(ctx context.Context, cl *call, out enveloped) error {
	c.stats.add(cl.group, func(s *groupCounts) { s.calls++ })
	for attempt := 1; ; attempt++ {
		retryAfter, err := c.attempt(ctx, cl, attempt, out)
		if err == nil {
			return nil
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return fmt.Errorf("clevertap: %s: %w", cl.op, ctxErr)
		}
		retry := shouldRetry(ctx.Err(), err)
		if !retry || attempt >= c.retry.MaxAttempts {
			if attempt == 1 && !retry {
				return err
			}
			return &RetryError{Attempts: attempt, Err: err}
		}
		if err := c.brk.allow(cl.op); err != nil { // no point waiting to be refused
			return &RetryError{Attempts: attempt, Err: err}
		}
		wait := backoff(attempt, c.retry, retryAfter, c.jitter())
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return &RetryError{Attempts: attempt, Err: fmt.Errorf(
				"%w: %w (not waiting %v for attempt %d)", errDeadlineTooNear, err, wait.Round(time.Millisecond), attempt+1)}
		}
		c.stats.add(cl.group, func(s *groupCounts) { s.retries++ })
		c.log.DebugContext(ctx, "retrying", "op", cl.op, "group", cl.group,
			"attempt", attempt, "wait", wait, "reason", reason(err))
		if err := sleep(ctx, wait); err != nil {
			return fmt.Errorf("clevertap: %s: %w", cl.op, err)
		}
	}
}

// attempt is one HTTP exchange, bounded by the call's timeout. It holds the
// group slot from before the limiter wait until the body is read, reports
// the outcome to the breaker, and returns any Retry-After asked.
func (c *Client) attempt(ctx context.Context, cl *call, n int, out enveloped) (time.Duration, error) {
	if err := c.brk.allow(cl.op); err != nil {
		return 0, err
	}
	g := c.gates[cl.group]
	if err := g.acquire(ctx); err != nil {
		return 0, err
	}
	defer g.release()
	if err := waitLimiter(ctx, c.limiter); err != nil {
		return 0, err
	}
	if err := c.brk.allow(cl.op); err != nil { // it may have opened meanwhile
		return 0, err
	}
	c.stats.add(cl.group, func(s *groupCounts) { s.attempts++ })
	if cl.timeout <= 0 {
		cl.timeout = c.requestTimeout
	}
	actx, cancel := context.WithTimeout(ctx, cl.timeout)
	defer cancel()
	req, err := c.newRequest(actx, cl)
	if err != nil {
		return 0, err
	}
	start := time.Now()
	resp, err := c.hc.Do(req)
	if err != nil {
		err = c.networkFailure(ctx, actx, cl, transportError(cl, err))
		c.logAttempt(ctx, cl, n, 0, start, err)
		return 0, err
	}
	err = checkResponse(cl, resp, out, &c.sawJSON)
	resp.Body.Close()
	var api *APIError
	switch {
	case errors.As(err, &api):
		api.Message = c.redactMessage(cl, api.Message)
		c.brk.answered()
	case err != nil: // reading the body failed (already a transportError)
		err = c.networkFailure(ctx, actx, cl, err)
	default:
		c.brk.answered()
	}
	throttled := errors.Is(err, ErrRateLimited)
	g.answered(throttled)
	took := time.Since(start)
	c.stats.add(cl.group, func(s *groupCounts) {
		s.answered++
		s.busy += took
		if throttled {
			s.rateLimited++
		}
	})
	c.logAttempt(ctx, cl, n, resp.StatusCode, start, err)
	return parseRetryAfter(resp.Header, time.Now()), err
}

// newRequest builds the request. The URL is concatenated, not rebuilt from
// url.Values, so a cursor travels byte for byte as CleverTap sent it.
func (c *Client) newRequest(ctx context.Context, cl *call) (*http.Request, error) {
	u := c.baseURL + cl.path
	if cl.query != "" {
		u += "?" + cl.query
	}
	var body io.Reader
	if cl.body != nil {
		body = bytes.NewReader(cl.body)
	}
	req, err := http.NewRequestWithContext(ctx, cl.method, u, body)
	if err != nil {
		var ue *url.Error // its text would hold the query
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("clevertap: %s: %w: building request: %w", cl.op, ErrInvalidRequest, err)
	}
	req.Header.Set("X-CleverTap-Account-Id", c.creds.accountID)
	req.Header.Set("X-CleverTap-Passcode", string(c.creds.passcode))
	req.Header.Set("Accept", "application/json")
	if cl.method == http.MethodPost {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	return req, nil
}

func (c *Client) logAttempt(ctx context.Context, cl *call, n, status int, start time.Time, err error) {
	if !c.log.Enabled(ctx, slog.LevelDebug) {
		return
	}
	c.log.DebugContext(ctx, "request", "method", cl.method, "path", cl.path, "group", cl.group,
		"status", status, "attempt", n, "duration", time.Now().Sub(start), "outcome", reason(err))
}

// reason names an attempt's outcome for logs without echoing server text.
func reason(err error) string {
	if err == nil {
		return "ok"
	}
	for _, s := range []error{ErrUnauthorized, ErrConfig, ErrUnreachable, ErrRateLimited, ErrNotReady, ErrServer,
		ErrNotFound, ErrAmbiguous, ErrFilterRejected, ErrCursor, ErrInvalidRequest, ErrTooLarge} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return err.Error() // a transport error: op, method, path and cause only
}

// Account describes the account the client calls, for messages: its id and
// the API origin (never the passcode).
func (c *Client) Account() string {
	return c.creds.accountID + " at " + c.baseURL
}
