package clevertap

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// Sentinel errors. Every *APIError matches exactly one of them with
// errors.Is. Transport failures (refused, reset, timed out) match none:
// inspect them with errors.Is against syscall or context errors, or with
// errors.As for net.Error. ErrUnreachable is not an *APIError.
var (
	// ErrNotFound: CleverTap said no profile matched, in one of the shapes
	// that count as evidence: HTTP 200 "success" without a record, or a
	// "fail" answer on HTTP 200, 400 or 404 whose text says the profile does
	// not exist. Only Client.Profile returns it.
	ErrNotFound = errors.New("clevertap: not found")
	// ErrUnauthorized: HTTP or code 401/403. Run-fatal, never retried.
	ErrUnauthorized = errors.New("clevertap: unauthorized")
	// ErrConfig: the base URL, region or path is wrong, so nothing a retry
	// or a later run can fix: a redirect (never followed), a 404 that is not
	// a CleverTap answer, or a non-JSON answer from a server that has never
	// answered this client in JSON. Run-fatal, never retried.
	ErrConfig = errors.New("clevertap: wrong base URL, region or path")
	// ErrUnreachable: CleverTap could not be reached: for a while every
	// attempt failed on the network (refused, reset, timed out, DNS) and
	// none was answered, so the client's breaker fails calls at once instead
	// of waiting (see WithBreaker). Run-fatal; a later run can resume. Not an
	// *APIError.
	ErrUnreachable = errors.New("clevertap: CleverTap unreachable")
	// ErrRateLimited: HTTP or code 429, too many concurrent requests.
	ErrRateLimited = errors.New("clevertap: too many concurrent requests")
	// ErrInvalidRequest: CleverTap refused the request (400-class, including
	// a lookup refused for a reason other than "no such profile"), or the
	// client refused to send it.
	ErrInvalidRequest = errors.New("clevertap: invalid request")
	// ErrServer: a 5xx answer, or an answer the client could not understand.
	ErrServer = errors.New("clevertap: server error")
	// ErrFilterRejected: an event export with a profile filter was refused;
	// run it again without FilterEmail and filter the records yourself.
	ErrFilterRejected = errors.New("clevertap: profile filter rejected")
	// ErrNotReady: "request still in progress" (HTTP 202 or code 2).
	ErrNotReady = errors.New("clevertap: result not ready yet")
	// ErrCursor: CleverTap refused a cursor (invalid, expired or mangled).
	ErrCursor = errors.New("clevertap: invalid or expired cursor")
	// ErrAmbiguous: a profile lookup was refused because more than one
	// profile matches. It is not "not found": the subject exists.
	ErrAmbiguous = errors.New("clevertap: more than one profile matches")
	// ErrTooLarge: an answer (a profile, an event page or one event record)
	// is larger than the client's cap for it. Not retried; raise the cap
	// (WithMaxProfileBytes, WithMaxEventBytes) if the data is genuine.
	ErrTooLarge = errors.New("clevertap: answer too large")
)

// errTooLarge is what a capped read returns when the cap is reached.
var errTooLarge = errors.New("answer over the cap")

// APIError is a failure CleverTap reported: a non-2xx answer, or HTTP 200
// with "status":"fail". errors.Is(err, ErrX) tells its class.
type APIError struct {
	Op         string // e.g. "profile", "events", "events page", "delete"
	HTTPStatus int
	Code       int    // CleverTap's "code", 0 when absent
	Message    string // CleverTap's "error" text, bounded; never the request
	kind       error  // the sentinel checkResponse chose; nil → derived
}

func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("clevertap: ")
	b.WriteString(e.Op)
	b.WriteString(": HTTP ")
	b.WriteString(strconv.Itoa(e.HTTPStatus))
	if e.Code != 0 && e.Code != e.HTTPStatus {
		b.WriteString(" code ")
		b.WriteString(strconv.Itoa(e.Code))
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	return b.String()
}

// Is reports whether target is the sentinel of e's class.
func (e *APIError) Is(target error) bool { return target == e.class() }

func (e *APIError) class() error {
	if e.kind != nil {
		return e.kind
	}
	return classify(&call{}, facts{status: e.HTTPStatus, code: e.Code, fail: true, json: true, everJSON: true, msg: e.Message})
}

// RetryError is the final error of a call that was attempted more than once
// or ran out of attempts. It wraps the last attempt's error.
type RetryError struct {
	Attempts int
	Err      error
}

func (e *RetryError) Error() string {
	unit := "attempts"
	if e.Attempts == 1 {
		unit = "attempt"
	}
	return fmt.Sprintf("after %d %s: %v", e.Attempts, unit, e.Err)
}

func (e *RetryError) Unwrap() error { return e.Err }

// invalidf is a request the client refuses to send.
func invalidf(op, format string, args ...any) error {
	return fmt.Errorf("clevertap: %s: %w: %s", op, ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// malformed is a success answer the client cannot use.
func malformed(op, format string, args ...any) error {
	return &APIError{Op: op, HTTPStatus: http.StatusOK, Message: "malformed response: " + fmt.Sprintf(format, args...), kind: ErrServer}
}
