package batch

import (
	"context"
	"errors"
	"fmt"

	"github.com/ctdsr/ctdsr/clevertap"
)

// ErrFatal marks an error that must stop the whole run: bad credentials or a
// ledger that cannot be written. Everything else is a row failure.
var ErrFatal = errors.New("run cannot continue")

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
	case errors.Is(err, clevertap.ErrInvalidRequest):
		return "invalid", true
	case errors.Is(err, clevertap.ErrRateLimited):
		return "rate_limited", false
	case errors.Is(err, clevertap.ErrServer):
		return "server", false
	case errors.Is(err, clevertap.ErrNotReady):
		return "not_ready", false
	case errors.Is(err, clevertap.ErrCursor):
		return "cursor", false
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout", false
	default:
		return "transient", false
	}
}

// isFatalAPI reports whether an API error must stop the run.
func isFatalAPI(err error) bool {
	return errors.Is(err, clevertap.ErrUnauthorized)
}
