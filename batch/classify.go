package batch

import (
	"context"
	"errors"
	"fmt"

	"github.com/ctdsr/ctdsr/clevertap"
)

// ErrFatal marks an error that must stop the whole run: bad credentials, a
// wrong base URL or region, CleverTap unreachable, or a ledger that cannot
// be written. Everything else is a row failure.
var ErrFatal = errors.New("run cannot continue")

// ErrOutOfTime means the run reached its deadline (--max-duration), or a
// wait it would have to make (a Retry-After) would pass it: the run ends
// cleanly and the next one continues.
var ErrOutOfTime = errors.New("run out of time")

// fatalError wraps err so that errors.Is(err, ErrFatal) holds.
type fatalError struct{ err error }

func (e *fatalError) Error() string          { return e.err.Error() }
func (e *fatalError) Unwrap() []error        { return []error{ErrFatal, e.err} }
func fatal(format string, args ...any) error { return &fatalError{fmt.Errorf(format, args...)} }

// classify names the class of a row failure for the ledger and reports
// whether trying again later is pointless.
func classify(err error) (class string, permanent bool) {
	switch {
	case errors.Is(err, clevertap.ErrAmbiguous):
		return "ambiguous", true
	case errors.Is(err, clevertap.ErrTooLarge):
		return "too_large", true // a larger cap, then `ctdsr reopen`
	case errors.Is(err, clevertap.ErrInvalidRequest):
		var api *clevertap.APIError
		if !errors.As(err, &api) {
			return "invalid", true // the client would not send it: it never will
		}
		// CleverTap refused the call. Not proof of anything about the
		// subject (a wrong path or a proxy refuses too): later runs try
		// again, and the request fails after MaxAttempts.
		return "refused", false
	case errors.Is(err, clevertap.ErrRateLimited):
		return "rate_limited", false
	case errors.Is(err, clevertap.ErrServer):
		return "server", false
	case errors.Is(err, clevertap.ErrNotReady):
		return "not_ready", false
	case errors.Is(err, clevertap.ErrCursor):
		return "cursor", false
	default:
		return "transient", false
	}
}

// runFatal turns an API error that must stop the run into a fatal error
// saying what to do about it; it returns nil for a row failure.
func runFatal(err error) error {
	switch {
	case errors.Is(err, clevertap.ErrUnauthorized):
		return fatal("CleverTap refused the credentials: %w", err)
	case errors.Is(err, clevertap.ErrConfig):
		return fatal("CleverTap's answer shows a configuration problem (check --region or --base-url): %w", err)
	case errors.Is(err, clevertap.ErrUnreachable):
		return fatal("CleverTap looks unreachable; nothing was closed, rerun when it answers: %w", err)
	case errors.Is(err, ErrWrongZone):
		return fatal("%w", err)
	}
	return nil
}

// isFatalAPI reports whether an API error must stop the run.
func isFatalAPI(err error) bool { return runFatal(err) != nil }

// outOfTime reports whether err says the run's own deadline came (or a
// wait would pass it); the client never reports its per-attempt timeouts
// as context.DeadlineExceeded.
func outOfTime(ctx context.Context, err error) bool {
	return errors.Is(err, ErrOutOfTime) ||
		(errors.Is(err, context.DeadlineExceeded) && ctx.Err() != context.Canceled)
}
