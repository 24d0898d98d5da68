package clevertap

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

// operations the error table drives, each over real HTTP.
var ops = map[string]func(ctx context.Context, c *Client) error{
	"profile": func(ctx context.Context, c *Client) error {
		_, err := c.Profile(ctx, ByEmail, "someone@example.com")
		return err
	},
	"delete": func(ctx context.Context, c *Client) error {
		return c.Delete(ctx, DeleteRequest{Identities: []string{"u1"}})
	},
	"events": func(ctx context.Context, c *Client) error {
		_, _, err := collect(ctx, c, EventQuery{EventName: "Charged", From: 20260101, To: 20260102})
		return err
	},
	"events+filter": func(ctx context.Context, c *Client) error {
		_, _, err := collect(ctx, c, EventQuery{EventName: "Charged", From: 20260101, To: 20260102, FilterEmail: "someone@example.com"})
		return err
	},
}

// pageReply answers step 1 with a cursor and every cursor page with status
// and body, so the table exercises the page path.
func pageReply(status int, body string) *recorder {
	return &recorder{fn: func(w http.ResponseWriter, r *http.Request, _ int) {
		if r.URL.Query().Get("cursor") == "" {
			write(w, 200, `{"status":"success","cursor":"c1"}`)
			return
		}
		write(w, status, body)
	}}
}

func TestCheckResponseShapes(t *testing.T) {
	const html = `<html><body>bad gateway for someone@example.com</body></html>`
	tests := []struct {
		name         string
		op           string // key of ops; "page" drives a cursor page
		status       int
		body         string
		warm         bool // the client has had a JSON answer before
		want         error
		wantAttempts int // requests to the failing endpoint (client allows 3)
		wantCode     int
		wantMsg      string
	}{
		{"recorded 401, padded", "delete", 401, `{ "status" : "fail" , "error" : "Account ID is not valid" , "code" : 401 }`, false, ErrUnauthorized, 1, 401, "Account ID is not valid"},
		{"200 fail code 401", "profile", 200, `{"status":"fail","error":"Invalid Credentials","code":401}`, false, ErrUnauthorized, 1, 401, "Invalid Credentials"},
		{"403 forbidden", "events", 403, `{"status":"fail","error":"Operation not allowed","code":403}`, false, ErrUnauthorized, 1, 403, "Operation not allowed"},
		{"401 from a proxy, not JSON", "profile", 401, html, false, ErrUnauthorized, 1, 0, "Unauthorized"},
		{"429 too many", "delete", 429, `{"status":"fail","error":"Too many concurrent requests","code":429}`, false, ErrRateLimited, 3, 429, "Too many concurrent requests"},
		{"429 as a string code in 200", "delete", 200, `{"status":"fail","error":"Too many concurrent requests","code":"429"}`, false, ErrRateLimited, 3, 429, "Too many concurrent requests"},
		{"500", "profile", 500, `{"status":"fail","error":"Internal Server Error","code":500}`, false, ErrServer, 3, 500, "Internal Server Error"},
		{"503", "events", 503, `{"status":"fail","error":"Service Unavailable","code":503}`, false, ErrServer, 3, 503, "Service Unavailable"},
		{"501 is not retried", "delete", 501, `{"status":"fail","error":"Not Implemented","code":501}`, false, ErrServer, 1, 501, "Not Implemented"},
		{"502 from a proxy after JSON answers", "profile", 502, html, true, ErrServer, 3, 0, "Bad Gateway"},
		{"502 page from a server that never answered JSON", "profile", 502, html, false, ErrConfig, 1, 0, ""},
		{"error without code", "delete", 400, `{"error":"This target hasn't been completed","status":"fail"}`, false, ErrInvalidRequest, 1, 0, "This target hasn't been completed"},
		{"code as a word", "delete", 400, `{"status":"fail","error":"bad","code":"oops"}`, false, ErrInvalidRequest, 1, 0, "bad"},
		{"error as JSON array in a string", "events", 200, `{"status":"fail","error":"[\"Invalid event : Uninstalled\"]","code":400}`, false, ErrInvalidRequest, 1, 400, "Invalid event : Uninstalled"},
		{"error as an object", "delete", 400, `{"status":"fail","error":{"field":"guid"},"code":400}`, false, ErrInvalidRequest, 1, 400, `{"field":"guid"}`},
		{"filter refused with 400", "events+filter", 400, `{"status":"fail","error":"Invalid filter","code":400}`, false, ErrFilterRejected, 1, 400, "Invalid filter"},
		{"filter refused with 200", "events+filter", 200, `{"status":"fail","error":"Invalid filter","code":400}`, false, ErrFilterRejected, 1, 400, "Invalid filter"},
		{"filter sent, but auth failed", "events+filter", 401, `{"status":"fail","error":"Invalid Credentials","code":401}`, false, ErrUnauthorized, 1, 401, "Invalid Credentials"},
		{"step 1 pending, empty 202", "events", 202, ``, false, ErrNotReady, 3, 0, "Accepted"},
		{"step 1 pending, 202 with a body", "events", 202, `{"status":"success","cursor":"c1"}`, false, ErrNotReady, 3, 0, "Accepted"},
		{"202 code 2 on a page", "page", 202, `{"status":"fail","error":"Request still in progress, please retry later","code":2}`, false, ErrNotReady, 3, 2, "Request still in progress, please retry later"},
		{"200 code 2 on a page", "page", 200, `{"status":"fail","error":"Request still in progress, please retry later","code":2}`, false, ErrNotReady, 3, 2, "Request still in progress, please retry later"},
		{"code 2 as a string", "page", 200, `{"status":"fail","error":"Request still in progress, please retry later","code":"2"}`, false, ErrNotReady, 3, 2, ""},
		{"invalid cursor", "page", 200, `{"status":"fail","error":"Invalid cursor","code":400}`, false, ErrCursor, 1, 400, "Invalid cursor"},
		{"incorrect usage", "page", 400, `{"status":"fail","error":"Incorrect Usage","code":400}`, false, ErrCursor, 1, 400, "Incorrect Usage"},
		{"profile 404 not found", "profile", 404, `{"status":"fail","error":"Profile not found","code":404}`, false, ErrNotFound, 1, 404, "Profile not found"},
		{"profile 200 fail not found", "profile", 200, `{"status":"fail","error":"Profile not found","code":404}`, false, ErrNotFound, 1, 404, "Profile not found"},
		{"profile 400 no such user", "profile", 400, `{"status":"fail","error":"No such user","code":400}`, false, ErrNotFound, 1, 400, "No such user"},
		{"profile 400 does not exist, string code", "profile", 400, `{"status":"fail","error":"User does not exist","code":"400"}`, false, ErrNotFound, 1, 400, "User does not exist"},
		{"profile fail with record of odd type", "profile", 200, `{"status":"fail","error":"profile not found","code":404,"record":"none"}`, false, ErrNotFound, 1, 404, "profile not found"},
		{"profile refused for another reason", "profile", 400, `{"status":"fail","error":"Rate plan does not allow lookups","code":400}`, false, ErrInvalidRequest, 1, 400, "Rate plan does not allow lookups"},
		{"profile refused without a reason", "profile", 200, `{"status":"fail","code":400}`, false, ErrInvalidRequest, 1, 400, ""},
		{"profile 404 from a router: bare Not found", "profile", 404, `{"status":"fail","error":"Not found","code":404}`, false, ErrInvalidRequest, 1, 404, "Not found"},
		{"profile 404 not-found text on 500", "profile", 500, `{"status":"fail","error":"Profile not found","code":500}`, false, ErrServer, 3, 500, "Profile not found"},
		{"profile 404 with an HTML body", "profile", 404, `<html>no such path</html>`, true, ErrConfig, 1, 0, ""},
		{"profile 404 with an empty body", "profile", 404, ``, true, ErrConfig, 1, 0, ""},
		{"profile 404 JSON that is not a fail answer", "profile", 404, `{"message":"Not Found"}`, true, ErrConfig, 1, 0, ""},
		{"delete 404 is not a miss", "delete", 404, `{"status":"fail","error":"Not found","code":404}`, false, ErrInvalidRequest, 1, 404, "Not found"},
		{"delete 404 HTML", "delete", 404, html, true, ErrConfig, 1, 0, ""},
		{"200 not JSON after JSON answers", "profile", 200, `<html>maintenance</html>`, true, ErrServer, 1, 0, ""},
		{"200 not JSON, never JSON before", "profile", 200, `<html>maintenance</html>`, false, ErrConfig, 1, 0, ""},
		{"200 unexpected status", "delete", 200, `{"status":"partial"}`, false, ErrServer, 1, 0, ""},
		{"200 fail with nothing else", "delete", 200, `{"status":"fail"}`, false, ErrInvalidRequest, 1, 0, ""},
		{"delete 202 accepted is success", "delete", 202, `{"status":"success"}`, false, nil, 1, 0, ""},
		{"profile 202 code 2", "profile", 202, `{"status":"fail","error":"Request still in progress, please retry later","code":2}`, false, ErrNotReady, 3, 2, ""},
		{"page 202 with a success body", "page", 202, `{"status":"success"}`, false, ErrNotReady, 3, 0, ""},
		{"error body over 64 KiB", "profile", 500, `{"status":"fail","code":500,"error":"` + strings.Repeat("x", 70<<10) + `"}`, true, ErrServer, 3, 0, "Internal Server Error"},
		{"405", "delete", 405, `{"status":"fail","error":"Method not allowed","code":405}`, false, ErrInvalidRequest, 1, 405, "Method not allowed"},
		{"302 redirect", "profile", 302, ``, false, ErrConfig, 1, 0, "redirect to host elsewhere.example.net, not followed"},
		{"307 redirect on a delete", "delete", 307, ``, true, ErrConfig, 1, 0, "redirect to host elsewhere.example.net, not followed"},
		{"301 redirect on a page", "page", 301, ``, true, ErrConfig, 1, 0, "redirect to host elsewhere.example.net, not followed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rec *recorder
			run := ops[tt.op]
			if tt.op == "page" {
				rec, run = pageReply(tt.status, tt.body), ops["events"]
			} else {
				rec = reply(tt.status, tt.body)
			}
			c := setup(t, rec)
			c.sawJSON.Store(tt.warm)
			err := run(t.Context(), c)
			if tt.want == nil {
				if err != nil || len(rec.requests()) != tt.wantAttempts {
					t.Fatalf("err %v after %d requests, want success after %d", err, len(rec.requests()), tt.wantAttempts)
				}
				return
			}

			if got := matching(err); len(got) != 1 || got[0] != tt.want {
				t.Fatalf("error %v matches %v, want exactly [%v]", err, got, tt.want)
			}
			var api *APIError
			if !errors.As(err, &api) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if api.HTTPStatus != tt.status || api.Code != tt.wantCode {
				t.Errorf("HTTPStatus, Code = %d, %d; want %d, %d", api.HTTPStatus, api.Code, tt.status, tt.wantCode)
			}
			if strings.Contains(err.Error(), "someone") {
				t.Errorf("error %q repeats the email", err)
			}
			if tt.want == ErrConfig && !strings.Contains(api.Message, tt.wantMsg) {
				t.Errorf("Message = %q, want it to contain %q", api.Message, tt.wantMsg)
			} else if tt.want != ErrConfig && tt.wantMsg != "" && api.Message != tt.wantMsg {
				t.Errorf("Message = %q, want %q", api.Message, tt.wantMsg)
			}
			attempts := len(rec.requests())
			if tt.op == "page" {
				attempts-- // step 1
			}
			if attempts != tt.wantAttempts {
				t.Errorf("%d attempts, want %d", attempts, tt.wantAttempts)
			}
			var re *RetryError
			if gotRetry := errors.As(err, &re); gotRetry != (tt.wantAttempts > 1) {
				t.Errorf("RetryError present = %v, want %v (err %v)", gotRetry, tt.wantAttempts > 1, err)
			} else if gotRetry && re.Attempts != tt.wantAttempts {
				t.Errorf("RetryError.Attempts = %d, want %d", re.Attempts, tt.wantAttempts)
			}
		})
	}
}

func TestProfileSuccessWithoutRecordIsNotFound(t *testing.T) {
	for _, body := range []string{
		`{"status":"success","record":null}`,
		`{ "status" : "success" }`,
	} {
		c := setup(t, reply(200, body))
		p, err := c.Profile(t.Context(), ByIdentity, "u-1")
		if !errors.Is(err, ErrNotFound) || p != nil {
			t.Errorf("body %s: got (%v, %v), want (nil, ErrNotFound)", body, p, err)
		}
	}
}

func TestAPIErrorIsDerivedWhenBuiltByHand(t *testing.T) {
	tests := []struct {
		err  *APIError
		want error
	}{
		{&APIError{HTTPStatus: 401}, ErrUnauthorized},
		{&APIError{HTTPStatus: 200, Code: 403}, ErrUnauthorized},
		{&APIError{HTTPStatus: 429}, ErrRateLimited},
		{&APIError{HTTPStatus: 202}, ErrNotReady},
		{&APIError{HTTPStatus: 200, Code: 2}, ErrNotReady},
		{&APIError{HTTPStatus: 503}, ErrServer},
		{&APIError{HTTPStatus: 404}, ErrInvalidRequest}, // not a profile lookup
		{&APIError{HTTPStatus: 400}, ErrInvalidRequest},
	}
	for _, tt := range tests {
		if got := matching(tt.err); len(got) != 1 || got[0] != tt.want {
			t.Errorf("%+v matches %v, want [%v]", *tt.err, got, tt.want)
		}
	}
}

func TestMessage(t *testing.T) {
	long := make([]byte, 0, 400)
	for range 200 {
		long = append(long, "é"...)
	}
	tests := []struct{ raw, want string }{
		{``, ""},
		{`null`, ""},
		{`"plain"`, "plain"},
		{`"[\"a\",\"b\"]"`, "a; b"},
		{`"[not json"`, "[not json"},
		{`["x"]`, `["x"]`},
		{`"` + string(long) + `"`, string(long[:maxMessage]) + "…"},
	}
	for _, tt := range tests {
		if got := message([]byte(tt.raw)); got != tt.want {
			t.Errorf("message(%.40s) = %.40q, want %.40q", tt.raw, got, tt.want)
		}
	}
}

func TestRetryErrorWrapsTheLastError(t *testing.T) {
	last := &APIError{Op: "delete", HTTPStatus: 503, Code: 503, Message: "Service Unavailable"}
	err := error(&RetryError{Attempts: 8, Err: last})
	if got, want := err.Error(), "after 8 attempts: clevertap: delete: HTTP 503: Service Unavailable"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	var api *APIError
	if !errors.As(err, &api) || api != last || !errors.Is(err, ErrServer) {
		t.Errorf("RetryError does not unwrap to its last error")
	}
}
