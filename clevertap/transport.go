package clevertap

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"
)

// transportError drops *url.Error's text, which would print the query
// (emails), and keeps its cause for classification.
func transportError(cl *call, err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return fmt.Errorf("clevertap: %s: %s %s: %w", cl.op, cl.method, cl.path, err)
}

// networkFailure classifies an attempt that got no usable answer (err is a
// transportError): the caller's own cancellation or deadline (returned as
// is, not held against the network), the attempt's timeout, or a transport
// failure. The last two count towards the breaker.
func (c *Client) networkFailure(ctx, actx context.Context, cl *call, err error) error {
	switch {
	case ctx.Err() != nil:
		return ctx.Err()
	case actx.Err() != nil:
		err = &timeoutError{op: cl.op, method: cl.method, path: cl.path, d: cl.timeout}
	}
	c.brk.failed(err)
	return err
}

// timeoutError is an attempt that got no complete answer within its
// timeout. It is a net.Error whose Timeout is true, so it is retried like a
// transport timeout; it does not match context.DeadlineExceeded, which
// stays the caller's own deadline.
type timeoutError struct {
	op, method, path string
	d                time.Duration
}

func (e *timeoutError) Error() string {
	return fmt.Sprintf("clevertap: %s: %s %s: no complete answer within %v (per-attempt timeout)", e.op, e.method, e.path, e.d)
}
func (e *timeoutError) Timeout() bool   { return true }
func (e *timeoutError) Temporary() bool { return true }
