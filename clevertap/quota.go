package clevertap

import (
	"context"
	"fmt"
	"math"
)

// Limiter paces requests; *rate.Limiter from golang.org/x/time/rate
// satisfies it. The client waits on it before every HTTP attempt.
type Limiter interface {
	Wait(ctx context.Context) error
}

// Quota is the one place that turns CleverTap's limits and the share of
// them a run may use into an in-flight cap and a request rate.
//
// CleverTap limits concurrent in-flight requests per account and API group
// (Concurrency, 3 for profiles, events and deletes). Other systems may use
// the same account, so a client uses only Share of it: at most
// PerGroup() = max(1, floor(Concurrency × Share)) requests in flight per
// group, for all its callers together. RPS is an optional request-rate
// quota; the client's share of it is PerSecond() = RPS × Share.
//
// Zero means zero: a zero field is not replaced by a default, so
// Quota{}.Validate() fails. Start from DefaultQuota.
type Quota struct {
	Concurrency int     // C: CleverTap's in-flight limit per group, ≥ 1
	Share       float64 // S: fraction of the limits to use, in (0, 1]
	RPS         float64 // R: requests per second for the account, ≥ 0; 0 means no rate limit
}

// DefaultQuota is CleverTap's documented limit of 3 in flight per group,
// three quarters of it for this client, and no rate limit.
func DefaultQuota() Quota {
	return Quota{Concurrency: DefaultConcurrency, Share: DefaultShare, RPS: 0}
}

// Validate reports whether q can be used: Concurrency ≥ 1, Share in
// (0, 1], RPS ≥ 0, and no NaN or infinity.
func (q Quota) Validate() error {
	switch {
	case q.Concurrency < 1:
		return fmt.Errorf("clevertap: quota concurrency %d is below 1", q.Concurrency)
	case math.IsNaN(q.Share) || math.IsInf(q.Share, 0) || q.Share <= 0 || q.Share > 1:
		return fmt.Errorf("clevertap: quota share %v is outside (0, 1]", q.Share)
	case math.IsNaN(q.RPS) || math.IsInf(q.RPS, 0) || q.RPS < 0:
		return fmt.Errorf("clevertap: quota rate %v per second is not a finite number ≥ 0", q.RPS)
	}
	return nil
}

// PerGroup returns K = max(1, floor(Concurrency × Share)), the in-flight
// cap per group. It is meaningful only for a valid q.
func (q Quota) PerGroup() int {
	k := math.Floor(float64(q.Concurrency)*q.Share + 1e-9) // 0.3×10 is 2.9999… in floating point
	if math.IsNaN(k) || k < 1 {
		return 1
	}
	return int(min(k, math.MaxInt32))
}

// PerSecond returns the request rate this client may use, RPS × Share; 0
// means no rate limit. A caller builds the shared limiter from it (this
// package imports only the standard library), for instance
// rate.NewLimiter(rate.Limit(q.PerSecond()), 1), and passes it with
// WithRateLimiter.
func (q Quota) PerSecond() float64 {
	return q.RPS * q.Share
}

// Quota returns the quota the client was built with. Client.PerGroup
// (quota_k.go) returns its K; everything that sizes work by the quota reads
// K there.
func (c *Client) Quota() Quota { return c.quota }

// errDeadlineTooNear marks a wait the client refused because the caller's
// deadline would pass first (a rate-limiter token, a backoff or a
// Retry-After). It is the caller's deadline, so it is never retried, and
// errors.Is(err, context.DeadlineExceeded) holds.
var errDeadlineTooNear = fmt.Errorf("clevertap: the caller's deadline is too near to wait: %w", context.DeadlineExceeded)

// waitLimiter waits on l, classifying its failures: after cancellation the
// context's error, a refusal under a deadline as the caller's deadline.
func waitLimiter(ctx context.Context, l Limiter) error {
	if l == nil {
		return nil
	}
	err := l.Wait(ctx)
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return ctx.Err()
	}
	if _, ok := ctx.Deadline(); ok {
		return fmt.Errorf("%w (rate limiter: %v)", errDeadlineTooNear, err)
	}
	return fmt.Errorf("clevertap: rate limiter: %w", err)
}

// PerGroup returns K, the client's in-flight cap per API group.
func (c *Client) PerGroup() int { return c.quota.PerGroup() }
