package clevertap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// RetryPolicy bounds retries: at most MaxAttempts attempts per call, waiting
// a random duration in [0, min(MaxDelay, BaseDelay×2^(n-1))] after attempt n
// (exponential backoff with full jitter), or what a Retry-After header asks.
// Zero fields take the defaults.
type RetryPolicy struct {
	MaxAttempts int           // including the first; 0 means 8, 1 disables retries
	BaseDelay   time.Duration // 0 means 250ms
	MaxDelay    time.Duration // 0 means 30s
}

func (p RetryPolicy) withDefaults() RetryPolicy {
	if p.MaxAttempts == 0 {
		p.MaxAttempts = DefaultMaxAttempts
	}
	if p.BaseDelay == 0 {
		p.BaseDelay = DefaultBaseDelay
	}
	if p.MaxDelay == 0 {
		p.MaxDelay = DefaultMaxDelay
	}
	return p
}

func (p RetryPolicy) validate() error {
	switch {
	case p.MaxAttempts < 0:
		return fmt.Errorf("clevertap: retry max attempts %d is negative", p.MaxAttempts)
	case p.BaseDelay < 0 || p.MaxDelay < 0:
		return errors.New("clevertap: retry delays must not be negative")
	case p.MaxDelay < p.BaseDelay:
		return fmt.Errorf("clevertap: retry max delay %v is below base delay %v", p.MaxDelay, p.BaseDelay)
	}
	return nil
}

// shouldRetry reports whether a failed attempt is worth another. ctxErr is
// the caller's context error: the caller's own cancellation or deadline is
// never retried. Retried: 429, 5xx except 501, "still in progress" (HTTP 202
// or code 2), connection resets and timeouts. Everything else, notably
// 401/403 and 4xx logic errors, is final.
func shouldRetry(ctxErr, err error) bool {
	if ctxErr != nil || err == nil || errors.Is(err, errDeadlineTooNear) {
		return false
	}
	var api *APIError
	if errors.As(err, &api) {
		switch api.class() {
		case ErrRateLimited, ErrNotReady:
			return true
		case ErrServer:
			return (api.HTTPStatus >= 500 || api.Code >= 500) &&
				api.HTTPStatus != http.StatusNotImplemented && api.Code != http.StatusNotImplemented
		}
		return false
	}
	return isTransient(err)
}

// isTransient reports whether a transport error is a reset or a timeout.
func isTransient(err error) bool {
	switch {
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.EPIPE), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return true
	case errors.Is(err, context.DeadlineExceeded): // a transport timeout; the caller's ctx is alive
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// maxRetryAfter caps a server-sent Retry-After (CleverTap's oldest wording
// was "try again after 10 minutes").
const maxRetryAfter = 10 * time.Minute

// backoff returns how long to wait after failed attempt n (1-based). A
// positive retryAfter from the server wins, capped at maxRetryAfter.
// Otherwise the wait is full jitter: rnd × min(MaxDelay, BaseDelay×2^(n-1)),
// with rnd in [0, 1).
func backoff(attempt int, p RetryPolicy, retryAfter time.Duration, rnd float64) time.Duration {
	if retryAfter > 0 {
		return min(retryAfter, maxRetryAfter)
	}
	ceiling := p.MaxDelay
	if shift := attempt - 1; shift >= 0 && shift < 62 {
		if d := p.BaseDelay << shift; d > 0 && d>>shift == p.BaseDelay && d < ceiling {
			ceiling = d
		}
	}
	rnd = min(max(rnd, 0), 1)
	return time.Duration(rnd * float64(ceiling))
}

// parseRetryAfter reads a Retry-After header: delay-seconds or an HTTP date
// (relative to now). It returns 0 when absent or unusable.
func parseRetryAfter(h http.Header, now time.Time) time.Duration {
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		if s <= 0 {
			return 0
		}
		return min(time.Duration(s)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now))
	}
	return 0
}

// sleep waits d or until ctx is done, returning the context's error then.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
