package clevertap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Sentinel errors. Every *APIError matches exactly one of them with
// errors.Is; transport failures match none (inspect them with errors.Is
// against syscall or context errors, or with errors.As for net.Error).
var (
	// ErrNotFound: no profile matched (every not-found shape CleverTap
	// uses). Only Client.Profile returns it.
	ErrNotFound = errors.New("clevertap: not found")
	// ErrUnauthorized: HTTP or code 401/403. Fatal for a run, never retried.
	ErrUnauthorized = errors.New("clevertap: unauthorized")
	// ErrRateLimited: HTTP or code 429, too many concurrent requests.
	ErrRateLimited = errors.New("clevertap: too many concurrent requests")
	// ErrInvalidRequest: CleverTap refused the request (400-class), or the
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
)

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
	return classify(&call{}, e.HTTPStatus, e.Code, true, e.Message)
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

// envelope is the part of every CleverTap answer that says how it went.
// Response types embed it so a body is decoded once.
type envelope struct {
	Status string          `json:"status"`
	Code   json.Number     `json:"code"`
	Error  json.RawMessage `json:"error"`
}

func (e *envelope) env() *envelope { return e }

type enveloped interface{ env() *envelope }

// checkResponse turns an answer into nil or a typed error; it is the only
// place failures are classified. A 2xx body is decoded into out, whose
// embedded envelope must then say "success"; on a cursor page HTTP 202 means
// "not ready" whatever the body says. body is already bounded by the caller.
func checkResponse(c *call, status int, body []byte, out enveloped) error {
	var env *envelope
	if status >= 200 && status < 300 && !(status == http.StatusAccepted && c.cursor) {
		if out == nil {
			out = &envelope{}
		}
		reflect.ValueOf(out).Elem().SetZero() // nothing left over from an earlier attempt
		if err := json.Unmarshal(body, out); err != nil {
			var bare envelope // a failure whose other fields have odd types
			if json.Unmarshal(body, &bare) != nil || bare.Status != "fail" {
				return &APIError{Op: c.op, HTTPStatus: status, Message: "malformed response: " + err.Error(), kind: ErrServer}
			}
			env = &bare
		} else {
			env = out.env()
		}
		switch env.Status {
		case "success":
			return nil
		case "fail":
		default:
			return &APIError{Op: c.op, HTTPStatus: status, Message: "unexpected status " + strconv.Quote(clip(env.Status, 40)), kind: ErrServer}
		}
	} else {
		env = &envelope{}
		if json.Unmarshal(body, env) != nil {
			env = &envelope{} // not JSON (a proxy's page): keep only the status
		}
	}
	code, _ := strconv.Atoi(env.Code.String())
	msg := message(env.Error)
	if msg == "" && (status < 200 || status >= 300) {
		msg = http.StatusText(status)
	}
	kind := classify(c, status, code, env.Status == "fail", msg)
	return &APIError{Op: c.op, HTTPStatus: status, Code: code, Message: msg, kind: kind}
}

// classify maps an HTTP status, CleverTap's code and whether the body said
// "status":"fail" to a sentinel. The call says what a plain refusal means
// for it: a profile miss, a rejected filter or a refused cursor. Only a
// profile lookup yields ErrNotFound, and only with a "fail" body, so a
// wrong base URL answering a bare 404 is not mistaken for "no such person",
// and a refusal saying several profiles match (CleverTap gives it no code of
// its own, so this one case is read from the text) is ErrAmbiguous.
func classify(c *call, status, code int, fail bool, msg string) error {
	is := func(n int) bool { return status == n || code == n }
	plain := status == http.StatusOK || status == http.StatusBadRequest
	switch {
	case is(http.StatusUnauthorized), is(http.StatusForbidden):
		return ErrUnauthorized
	case is(http.StatusTooManyRequests):
		return ErrRateLimited
	case status == http.StatusAccepted, code == 2:
		return ErrNotReady
	case status >= 500, code >= 500 && code < 600:
		return ErrServer
	case c.miss && fail && ambiguous(msg):
		return ErrAmbiguous
	case c.miss && fail && (plain || status == http.StatusNotFound):
		return ErrNotFound
	case c.filter && plain:
		return ErrFilterRejected
	case c.cursor && plain:
		return ErrCursor
	}
	return ErrInvalidRequest
}

// ambiguous reports whether a lookup's refusal says several profiles match.
func ambiguous(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "more than one") || strings.Contains(m, "multiple profiles")
}

// maxMessage bounds the error text kept from a body.
const maxMessage = 300

// message renders CleverTap's "error" field: a string, a JSON-encoded array
// inside a string ("[\"Invalid event : X\"]"), or any other JSON value.
func message(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		var buf bytes.Buffer
		if json.Compact(&buf, raw) != nil {
			return ""
		}
		return clip(buf.String(), maxMessage)
	}
	var list []string
	if t := strings.TrimSpace(s); strings.HasPrefix(t, "[") && json.Unmarshal([]byte(t), &list) == nil {
		s = strings.Join(list, "; ")
	}
	return clip(s, maxMessage)
}

// clip shortens s to at most n bytes without splitting a rune.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// malformed is a success answer the client cannot use.
func malformed(op, format string, args ...any) error {
	return &APIError{Op: op, HTTPStatus: http.StatusOK, Message: "malformed response: " + fmt.Sprintf(format, args...), kind: ErrServer}
}
