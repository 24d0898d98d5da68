package clevertap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"unicode/utf8"
)

// envelope is the part of every CleverTap answer that says how it went.
// Response types embed it so a body is decoded once. Every field is decoded
// leniently: "code" may be a number or a string ("2", "400"), and no field
// of the envelope makes a body undecodable.
type envelope struct {
	Status looseString     `json:"status"`
	Code   looseInt        `json:"code"`
	Error  json.RawMessage `json:"error"`
}

func (e *envelope) env() *envelope { return e }

type enveloped interface{ env() *envelope }

// facts are what classify needs to know about one answer.
type facts struct {
	status   int    // HTTP status
	code     int    // CleverTap's "code", 0 when absent
	fail     bool   // the body said "status":"fail"
	json     bool   // the body was a JSON object
	everJSON bool   // the client has had a JSON answer, this one included
	msg      string // CleverTap's "error" text
}

// checkResponse reads an answer and turns it into nil or a typed error; it
// is the only place answers are classified. A 2xx body is decoded into out,
// whose embedded envelope must then say "success". everJSON remembers
// whether this client has ever had a JSON answer: before one, a non-JSON
// answer means the base URL points somewhere other than CleverTap. Errors
// reading the body are returned as transport errors (retryable); nothing of
// the body beyond CleverTap's own error text ends up in an error.
func checkResponse(cl *call, resp *http.Response, out enveloped, everJSON *atomic.Bool) error {
	status := resp.StatusCode
	if status >= 300 && status < 400 {
		return &APIError{Op: cl.op, HTTPStatus: status, Message: redirectMessage(resp.Header.Get("Location")), kind: ErrConfig}
	}
	if status >= 200 && status < 300 && !(status == http.StatusAccepted && cl.pending) {
		if s, ok := out.(streamer); ok {
			return decodeStream(cl, status, resp.Header, resp.Body, s, everJSON)
		}
		body, err := readBody(resp.Body, cl.limit)
		if err != nil {
			return bodyError(cl, status, err)
		}
		return decodeSuccess(cl, status, resp.Header, body, out, everJSON)
	}
	body, err := readErrorBody(resp.Body)
	if err != nil {
		return transportError(cl, err)
	}
	var env envelope
	f := facts{status: status}
	if isObject(body) && json.Unmarshal(body, &env) == nil {
		everJSON.Store(true)
		f.json = true
	}
	f.everJSON = everJSON.Load()
	return refusal(cl, f, &env, resp.Header)
}

// decodeSuccess decodes a 2xx body into out and checks its status.
func decodeSuccess(cl *call, status int, h http.Header, body []byte, out enveloped, everJSON *atomic.Bool) error {
	if out == nil {
		out = &envelope{}
	}
	reflect.ValueOf(out).Elem().SetZero() // nothing left over from an earlier attempt
	if !isObject(body) {
		f := facts{status: status, everJSON: everJSON.Load()}
		if f.everJSON {
			return &APIError{Op: cl.op, HTTPStatus: status, Message: "malformed response: not a JSON object" + mediaType(h), kind: ErrServer}
		}
		return refusal(cl, f, &envelope{}, h)
	}
	everJSON.Store(true)
	env := out.env()
	if err := json.Unmarshal(body, out); err != nil {
		var bare envelope // a failure whose other fields have odd types
		if json.Unmarshal(body, &bare) != nil || bare.Status != "fail" {
			return &APIError{Op: cl.op, HTTPStatus: status, Message: "malformed response: " + err.Error(), kind: ErrServer}
		}
		env = &bare
	}
	return verdict(cl, status, h, env)
}

// verdict is what a decoded 2xx body's status says: nil for success, a
// refusal for fail, and a server error for anything else.
func verdict(cl *call, status int, h http.Header, env *envelope) error {
	switch env.Status {
	case "success":
		return nil
	case "fail":
		return refusal(cl, facts{status: status, fail: true, json: true, everJSON: true}, env, h)
	}
	return &APIError{Op: cl.op, HTTPStatus: status, Message: "unexpected status " + strconv.Quote(clip(string(env.Status), 40)), kind: ErrServer}
}

// decodeStream decodes a 2xx body as a stream into out and checks its
// status, like decodeSuccess.
func decodeStream(cl *call, status int, h http.Header, body io.Reader, out streamer, everJSON *atomic.Bool) error {
	err := out.stream(body)
	switch {
	case errors.Is(err, errNotJSON):
		f := facts{status: status, everJSON: everJSON.Load()}
		if f.everJSON {
			return &APIError{Op: cl.op, HTTPStatus: status, Message: "malformed response: not a JSON object" + mediaType(h), kind: ErrServer}
		}
		return refusal(cl, f, &envelope{}, h)
	case errors.Is(err, errTooLarge):
		return bodyError(cl, status, err)
	case err != nil && !isSyntax(err):
		return transportError(cl, err)
	}
	everJSON.Store(true)
	env := out.env()
	if err != nil {
		return &APIError{Op: cl.op, HTTPStatus: status, Message: "malformed response: " + err.Error(), kind: ErrServer}
	}
	return verdict(cl, status, h, env)
}

// isSyntax reports whether err is a JSON decoding error rather than a
// failure to read (a body cut short by the connection is a transport
// failure, retried).
func isSyntax(err error) bool {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	return errors.As(err, &se) || errors.As(err, &te) || errors.Is(err, errTruncated)
}

// refusal classifies an answer that is not a success.
func refusal(cl *call, f facts, env *envelope, h http.Header) error {
	f.code = int(env.Code)
	f.fail = f.fail || env.Status == "fail"
	f.msg = message(env.Error)
	kind := classify(cl, f)
	switch {
	case kind == ErrConfig:
		f.msg = configMessage(f, h)
	case f.msg == "" && f.status != http.StatusOK:
		f.msg = http.StatusText(f.status)
	}
	return &APIError{Op: cl.op, HTTPStatus: f.status, Code: f.code, Message: f.msg, kind: kind}
}

// classify maps what an answer said to a sentinel. The call says what a
// plain refusal means for it: a profile miss, a rejected filter or a refused
// cursor; and whether HTTP 202 means "not ready" whatever the body.
//
// Only a profile lookup yields ErrNotFound, and only on evidence: a "fail"
// answer on HTTP 200, 400 or 404 whose text says the profile does not exist
// (saysNotFound). Any other refusal of a lookup is ErrInvalidRequest, so a
// proxy, a wrong path or a refusal for another reason never reads as "no
// such person". A refusal saying several profiles match (CleverTap gives it
// no code of its own, so this one case is read from the text) is
// ErrAmbiguous.
func classify(c *call, f facts) error {
	is := func(n int) bool { return f.status == n || f.code == n }
	plain := f.status == http.StatusOK || f.status == http.StatusBadRequest
	switch {
	case f.status >= 300 && f.status < 400:
		return ErrConfig // a redirect: never followed
	case is(http.StatusUnauthorized), is(http.StatusForbidden):
		return ErrUnauthorized
	case is(http.StatusTooManyRequests):
		return ErrRateLimited
	case f.status == http.StatusAccepted && c.pending, f.code == 2:
		return ErrNotReady
	case f.status == http.StatusNotFound && !(f.json && f.fail):
		return ErrConfig // not CleverTap saying "not found": a wrong URL
	case !f.json && !f.everJSON:
		return ErrConfig // this server has never answered in JSON
	case f.status == http.StatusAccepted:
		return ErrNotReady
	case f.status >= 500, f.code >= 500 && f.code < 600:
		return ErrServer
	case c.miss && f.fail && ambiguous(f.msg):
		return ErrAmbiguous
	case c.miss && f.fail && (plain || f.status == http.StatusNotFound) && saysNotFound(f.msg):
		return ErrNotFound
	case c.filter && plain:
		return ErrFilterRejected
	case c.cursor && plain:
		return ErrCursor
	}
	return ErrInvalidRequest
}

// notFoundTexts are what a lookup's refusal must say, ignoring case, to
// count as "no such profile". A bare "Not found" is not among them: it is
// what routers answer for unknown paths.
var notFoundTexts = []string{
	"profile not found", "user not found", "record not found", "identity not found",
	"no profile", "no such profile", "no such user", "no record", "no matching profile",
	"profile does not exist", "user does not exist", "record does not exist",
	"profile doesn't exist", "user doesn't exist",
}

// saysNotFound reports whether a lookup's refusal says the profile does not
// exist.
func saysNotFound(msg string) bool {
	m := strings.Join(strings.Fields(strings.ToLower(msg)), " ")
	for _, t := range notFoundTexts {
		if strings.Contains(m, t) {
			return true
		}
	}
	return false
}

// ambiguous reports whether a lookup's refusal says several profiles match.
func ambiguous(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "more than one") || strings.Contains(m, "multiple profiles")
}

// redirectMessage names where a redirect pointed: the host only, since the
// rest may repeat the query (emails).
func redirectMessage(location string) string {
	const advice = ", not followed: the base URL or region is wrong"
	u, err := url.Parse(location)
	switch {
	case location == "":
		return "redirect without a Location" + advice
	case err != nil:
		return "redirect to an unreadable Location" + advice
	case u.Host == "":
		return "redirect to another path on the same host" + advice
	}
	return "redirect to host " + clip(u.Host, 100) + advice
}

// configMessage explains an ErrConfig answer that is not a redirect.
func configMessage(f facts, h http.Header) string {
	if f.status == http.StatusNotFound {
		if f.json {
			return "not a CleverTap answer (no \"status\":\"fail\"): the base URL, region or path is wrong"
		}
		return "not a CleverTap answer" + mediaType(h) + ": the base URL, region or path is wrong"
	}
	return "answer is not JSON" + mediaType(h) + " and this server has never answered in JSON: the base URL, region or path is wrong"
}

// mediaType renders an answer's Content-Type for a message, e.g.
// " (text/html)"; parameters are dropped.
func mediaType(h http.Header) string {
	ct := h.Get("Content-Type")
	if ct == "" {
		return " (no Content-Type)"
	}
	if mt, _, err := mime.ParseMediaType(ct); err == nil {
		ct = mt
	}
	return " (" + clip(ct, 60) + ")"
}

// isObject reports whether body is one JSON object.
func isObject(body []byte) bool {
	b := bytes.TrimLeft(body, " \t\r\n")
	return len(b) > 0 && b[0] == '{' && json.Valid(b)
}

// maxErrorBody bounds what is read of an error answer; the rest is
// discarded.
const maxErrorBody = 64 << 10

// readBody reads at most limit bytes of a success body; a longer body is an
// errTooLarge. The buffer grows by doubling but never past limit+1, so a
// refused answer costs about twice the cap, not the body's size.
func readBody(r io.Reader, limit int64) ([]byte, error) {
	b := make([]byte, 0, min(limit+1, 4<<10))
	for {
		if len(b) == cap(b) {
			b = slices.Grow(b, int(min(int64(cap(b)), limit+1-int64(len(b)))))
		}
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		switch {
		case int64(len(b)) > limit:
			return nil, fmt.Errorf("%w: larger than %d bytes", errTooLarge, limit)
		case err == io.EOF:
			return b, nil
		case err != nil:
			return nil, err
		}
	}
}

// readErrorBody reads the first 64 KiB of an error answer and discards up
// to 1 MiB more, so the connection can be reused.
func readErrorBody(r io.Reader) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(r, maxErrorBody))
	if err != nil {
		return nil, err
	}
	_, _ = io.CopyN(io.Discard, r, 1<<20)
	return body, nil
}

// bodyError is a failure reading a success body: an answer over its cap,
// or a transport failure.
func bodyError(cl *call, status int, err error) error {
	if errors.Is(err, errTooLarge) {
		return &APIError{Op: cl.op, HTTPStatus: status, kind: ErrTooLarge, Message: cl.method + " " + cl.path + ": " + err.Error()}
	}
	return transportError(cl, err)
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
