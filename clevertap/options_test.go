package clevertap

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestRegionBaseURL(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"eu1", "https://api.clevertap.com"},
		{" EU1 ", "https://api.clevertap.com"},
		{"in1", "https://in1.api.clevertap.com"},
		{"us1", "https://us1.api.clevertap.com"},
		{"sg1", "https://sg1.api.clevertap.com"},
		{"aps3", "https://aps3.api.clevertap.com"},
		{"mec1", "https://mec1.api.clevertap.com"},
		{"sk1", "https://sk1.api.clevertap.com"},
		{"SK1", "https://sk1.api.clevertap.com"},
	}
	for _, tt := range tests {
		r, err := ParseRegion(tt.in)
		if err != nil {
			t.Errorf("ParseRegion(%q): %v", tt.in, err)
			continue
		}
		if got, _ := r.BaseURL(); got != tt.want {
			t.Errorf("ParseRegion(%q).BaseURL() = %q, want %q", tt.in, got, tt.want)
		}
	}
	for _, bad := range []string{"", "eu", "sk2", "india"} {
		if r, err := ParseRegion(bad); err == nil {
			t.Errorf("ParseRegion(%q) = %q, want an error", bad, r)
		}
	}
	if _, err := Region("zz9").BaseURL(); err == nil {
		t.Error("Region(zz9).BaseURL() gave no error")
	}
}

func TestNewClientValidatesOptions(t *testing.T) {
	creds := WithCredentials("ACC", "pc")
	tests := []struct {
		name string
		opts []Option
	}{
		{"no credentials", nil},
		{"nil option", []Option{creds, nil}},
		{"empty account", []Option{WithCredentials(" ", "pc")}},
		{"empty passcode", []Option{WithCredentials("ACC", "")}},
		{"passcode with newline", []Option{WithCredentials("ACC", "pc\r\nX-Evil: 1")}},
		{"unknown region", []Option{creds, WithRegion("xx1")}},
		{"plain http to a remote host", []Option{creds, WithBaseURL("http://api.clevertap.com")}},
		{"ftp", []Option{creds, WithBaseURL("ftp://127.0.0.1")}},
		{"no host", []Option{creds, WithBaseURL("https://")}},
		{"query in base URL", []Option{creds, WithBaseURL("https://example.com/?x=1")}},
		{"user info in base URL", []Option{creds, WithBaseURL("https://u:p@example.com")}},
		{"empty query in base URL", []Option{creds, WithBaseURL("https://example.com/?")}},
		{"fragment in base URL", []Option{creds, WithBaseURL("https://example.com/#x")}},
		{"nil HTTP client", []Option{creds, WithHTTPClient(nil)}},
		{"zero quota", []Option{creds, WithQuota(Quota{})}},
		{"negative concurrency", []Option{creds, WithQuota(Quota{Concurrency: -1, Share: 0.5})}},
		{"share above 1", []Option{creds, WithQuota(Quota{Concurrency: 3, Share: 1.5})}},
		{"share of 0 with a rate", []Option{creds, WithQuota(Quota{Concurrency: 3, Share: 0, RPS: 5})}},
		{"negative attempts", []Option{creds, WithRetry(RetryPolicy{MaxAttempts: -1})}},
		{"max delay below base", []Option{creds, WithRetry(RetryPolicy{BaseDelay: time.Minute, MaxDelay: time.Second})}},
		{"nil limiter", []Option{creds, WithRateLimiter(nil)}},
		{"nil logger", []Option{creds, WithLogger(nil)}},
		{"nil timezone", []Option{creds, WithTimezone(nil)}},
		{"zero request timeout", []Option{creds, WithRequestTimeout(0)}},
		{"negative page timeout", []Option{creds, WithPageTimeout(-time.Second)}},
		{"breaker without a minimum", []Option{creds, WithBreaker(time.Minute, 0)}},
		{"breaker without a window", []Option{creds, WithBreaker(0, 5)}},
		{"profile cap below 1 KiB", []Option{creds, WithMaxProfileBytes(512)}},
		{"negative profile cap", []Option{creds, WithMaxProfileBytes(-1)}},
		{"record cap below 1 KiB", []Option{creds, WithMaxEventBytes(100, 1<<20)}},
		{"page cap below the record cap", []Option{creds, WithMaxEventBytes(1<<20, 1<<10)}},
	}
	for _, tt := range tests {
		if c, err := NewClient(tt.opts...); err == nil {
			t.Errorf("%s: NewClient = %v, want an error", tt.name, c)
		}
	}
}

func TestNewClientAcceptsGoodOptions(t *testing.T) {
	tests := []struct {
		name     string
		opt      Option
		wantBase string
	}{
		{"default region", nil, "https://api.clevertap.com"},
		{"region", WithRegion(RegionIN1), "https://in1.api.clevertap.com"},
		{"loopback http", WithBaseURL("http://127.0.0.1:8080/"), "http://127.0.0.1:8080"},
		{"localhost http", WithBaseURL("http://localhost:9"), "http://localhost:9"},
		{"IPv6 loopback", WithBaseURL("http://[::1]:9"), "http://[::1]:9"},
		{"https with a port and a trailing slash", WithBaseURL("https://proxy.example.com:8443/"), "https://proxy.example.com:8443"},
	}
	for _, tt := range tests {
		opts := []Option{WithCredentials("ACC", "pc")}
		if tt.opt != nil {
			opts = append(opts, tt.opt)
		}
		c, err := NewClient(opts...)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if c.baseURL != tt.wantBase {
			t.Errorf("%s: base URL %q, want %q", tt.name, c.baseURL, tt.wantBase)
		}
	}
}

func TestBaseURLMustBeAnOrigin(t *testing.T) {
	for _, base := range []string{
		"http://127.0.0.1:8080/v1", "https://eu1.api.clevertap.com/1", "https://eu1.api.clevertap.com/1/",
		"https://proxy.example.com/ct/", "http://localhost:9//", "https:eu1.api.clevertap.com",
	} {
		_, err := NewClient(WithCredentials("ACC", "pc"), WithBaseURL(base))
		if err == nil {
			t.Errorf("WithBaseURL(%q) accepted a path", base)
			continue
		}
		if want := "base URL must be an origin such as https://eu1.api.clevertap.com (no path): the client adds /1/..."; !strings.Contains(err.Error(), want) && !strings.Contains(err.Error(), "no host") {
			t.Errorf("WithBaseURL(%q) = %v, want it to say %q", base, err, want)
		}
	}
}

func TestWithHTTPClientDoesNotMutateTheCallersClient(t *testing.T) {
	hc := &http.Client{Timeout: 5 * time.Second}
	c := mustClient(t, WithCredentials("ACC", "pc"), WithHTTPClient(hc))
	if hc.CheckRedirect != nil {
		t.Error("caller's http.Client got a CheckRedirect")
	}
	if c.hc == hc || c.hc.Timeout != 5*time.Second {
		t.Errorf("client should use a copy keeping the timeout; got same=%v timeout=%v", c.hc == hc, c.hc.Timeout)
	}
}

func TestDefaultHTTPClientHasTimeouts(t *testing.T) {
	c := mustClient(t, WithCredentials("ACC", "pc"))
	if c.hc.Timeout != 0 {
		t.Errorf("default HTTP client timeout %v, want none: the per-attempt timeouts bound each attempt", c.hc.Timeout)
	}
	if c.requestTimeout != DefaultRequestTimeout || c.pageTimeout != DefaultPageTimeout {
		t.Errorf("timeouts %v and %v, want %v and %v", c.requestTimeout, c.pageTimeout, DefaultRequestTimeout, DefaultPageTimeout)
	}
	if tr, ok := c.hc.Transport.(*http.Transport); !ok || tr.TLSHandshakeTimeout != DefaultDialTimeout {
		t.Errorf("default transport %T lacks the TLS handshake timeout", c.hc.Transport)
	}
	if c.brk == nil || c.brk.window != DefaultBreakerWindow || c.brk.min != DefaultBreakerMinFailures {
		t.Errorf("default breaker %+v", c.brk)
	}
	if d := mustClient(t, WithCredentials("ACC", "pc"), WithBreaker(0, 0)); d.brk != nil {
		t.Error("WithBreaker(0, 0) left the breaker on")
	}
}

func TestPasscodeNeverPrints(t *testing.T) {
	p := testPasscode
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("x", "passcode", p, "creds", struct{ P Passcode }{p})
	js, _ := json.Marshal(map[string]any{"p": p})
	txt, _ := p.MarshalText()
	outs := []string{
		fmt.Sprint(p), fmt.Sprintf("%v %+v %#v %s %q %x %X %d", p, p, p, p, p, p, p, p),
		fmt.Sprintf("%+v %#v", struct{ P Passcode }{p}, struct{ P Passcode }{p}),
		logs.String(), string(js), string(txt),
	}
	for _, out := range outs {
		if strings.Contains(out, string(p)) || !strings.Contains(out, "[REDACTED]") {
			t.Errorf("passcode printed, or not redacted: %s", out)
		}
	}
}

func TestClientOptionsAndErrorsNeverPrintThePasscode(t *testing.T) {
	rec := reply(401, `{"status":"fail","error":"Invalid Credentials","code":401}`)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	opt := WithCredentials(testAccount, testPasscode)
	c := setup(t, rec, opt, WithLogger(logger))

	_, err := c.Profile(t.Context(), ByEmail, "subject@example.com")
	if !errors.Is(err, ErrUnauthorized) {
		t.Fatalf("Profile: %v, want ErrUnauthorized", err)
	}
	if got := rec.requests(); len(got) != 1 || got[0].Passcode != string(testPasscode) {
		t.Fatalf("the passcode must travel in the header, once; requests %+v", len(got))
	}
	cv := *c.creds
	outs := map[string]string{
		"client %v":     fmt.Sprintf("%v", c),
		"client %+v":    fmt.Sprintf("%+v", c),
		"client %#v":    fmt.Sprintf("%#v", c),
		"client fields": fmt.Sprintf("%+v %#v", c.creds, cv.passcode),
		"option":        fmt.Sprintf("%v %+v %#v", opt, opt, opt),
		"error":         err.Error(),
		"error %+v":     fmt.Sprintf("%+v %#v", err, err),
		"debug log":     logs.String(),
		"stats":         fmt.Sprintf("%+v", c.Stats()),
	}
	for name, out := range outs {
		for _, secret := range []string{string(testPasscode), "subject@example.com", "subject%40example.com"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s contains %q: %s", name, secret, out)
			}
		}
	}
	if !strings.Contains(logs.String(), "path=/1/profile.json") || !strings.Contains(logs.String(), "clevertap.status=401") {
		t.Errorf("debug log lacks the per-attempt line:\n%s", logs.String())
	}
}

func TestNothingIsLoggedAtInfo(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil)) // Info
	c := setup(t, reply(503, body503), WithLogger(logger))
	if _, err := c.Profile(t.Context(), ByEmail, "subject@example.com"); !errors.Is(err, ErrServer) {
		t.Fatalf("Profile: %v", err)
	}
	if logs.Len() != 0 {
		t.Errorf("logged at Info or above:\n%s", logs.String())
	}
}

func TestRedirectsAreRefusedSoThePasscodeStaysHome(t *testing.T) {
	elsewhere := reply(200, paddedProfile)
	other := httptest.NewServer(elsewhere)
	t.Cleanup(other.Close)
	for _, hc := range []*http.Client{nil, {}} { // the default client and a caller's
		opts := []Option{}
		if hc != nil {
			opts = append(opts, WithHTTPClient(hc))
		}
		c := setup(t, &recorder{fn: func(w http.ResponseWriter, r *http.Request, _ int) {
			http.Redirect(w, r, other.URL+"/1/profile.json?"+r.URL.RawQuery, http.StatusFound)
		}}, opts...)
		_, err := c.Profile(t.Context(), ByIdentity, "u-1")
		var api *APIError
		if !errors.Is(err, ErrConfig) || !errors.As(err, &api) || api.HTTPStatus != http.StatusFound ||
			!strings.Contains(api.Message, "redirect to host 127.0.0.1") {
			t.Errorf("err = %v, want ErrConfig naming the host of the 302", err)
		}
	}
	if n := len(elsewhere.requests()); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

func TestZeroClientFormatsSafely(t *testing.T) {
	var c *Client
	if got := fmt.Sprint(c, &Client{}); got != "clevertap.Client{} clevertap.Client{}" {
		t.Errorf("got %q", got)
	}
}
