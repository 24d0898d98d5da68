package clevertap

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Defaults, in one place.
const (
	DefaultConcurrency = 3    // CleverTap's documented in-flight limit per API
	DefaultShare       = 0.75 // the fraction of it this client may use
	DefaultMaxAttempts = 8
	DefaultBaseDelay   = 250 * time.Millisecond
	DefaultMaxDelay    = 30 * time.Second
	DefaultDialTimeout = 10 * time.Second

	// DefaultRequestTimeout bounds one attempt of a profile lookup, a delete
	// or an export's step 1, from sending the request to the last byte of
	// the answer. These answers are small; CleverTap answers them in well
	// under a second when it answers at all.
	DefaultRequestTimeout = 30 * time.Second
	// DefaultPageTimeout bounds one attempt of an event page. A 5000-record
	// page is a few MiB with events=false (2.6 MiB for the simulator's
	// realistic records, 9.8 MiB with the event summary of 20 event names),
	// and CleverTap may have to assemble it first: public extractors poll a
	// pending page for up to 2 minutes (40 tries 3 s apart). Two minutes
	// lets such a page arrive at well under 1 Mbit/s, while a server that
	// accepted the connection and went silent costs at most 2 minutes per
	// attempt.
	DefaultPageTimeout = 2 * time.Minute

	// DefaultBreakerWindow and DefaultBreakerMinFailures: the client stops
	// trying (ErrUnreachable) once at least 5 attempts in a row failed on
	// the network and none was answered in the last 2 minutes.
	DefaultBreakerWindow      = 2 * time.Minute
	DefaultBreakerMinFailures = 5

	// DefaultMaxProfileBytes caps one profile answer. A real profile is a
	// few KiB (the event summary grows with the number of event names, 50
	// devices at most); 8 MiB leaves room for very large custom properties
	// and still bounds what one lookup can make the process hold.
	DefaultMaxProfileBytes = 8 << 20

	// DefaultMaxEventRecordBytes caps one record of an event page, and
	// DefaultMaxEventPageBytes a whole page. With events=false a record is
	// about 0.5 KiB (profile fields, event and session properties), so a
	// 5000-record page is a few MiB; the caps leave room for large custom
	// properties. A page over its cap is better fetched with a smaller
	// EventQuery.BatchSize than with a higher cap.
	DefaultMaxEventRecordBytes = 1 << 20
	DefaultMaxEventPageBytes   = 128 << 20
)

// Option configures a Client. Each option checks its input.
type Option func(*Client) error

// WithRegion selects the region's documented API host.
func WithRegion(r Region) Option {
	return func(c *Client) error {
		base, err := r.BaseURL()
		if err != nil {
			return err
		}
		c.baseURL = base
		return nil
	}
}

// WithBaseURL sends requests to base instead of a region host, e.g. the
// simulator. base must be an origin: https (or plain http on a loopback
// host), a host and an optional port, with no path (a trailing "/" is
// allowed), query, fragment or user info. The client adds /1/… itself, so
// a path would only ever produce wrong URLs.
func WithBaseURL(base string) Option {
	return func(c *Client) error {
		u, err := url.Parse(base)
		if err != nil {
			return fmt.Errorf("clevertap: base URL: %w", err)
		}
		switch {
		case u.Host == "":
			return fmt.Errorf("clevertap: base URL %q has no host", base)
		case u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
			return errors.New("clevertap: base URL must not carry user info, a query or a fragment")
		case u.Path != "" && u.Path != "/" || u.Opaque != "":
			return fmt.Errorf("clevertap: base URL %q: base URL must be an origin such as https://eu1.api.clevertap.com (no path): the client adds /1/...", base)
		case u.Scheme == "https":
		case u.Scheme == "http" && isLoopback(u.Hostname()):
		case u.Scheme == "http":
			return fmt.Errorf("clevertap: base URL %q: plain http is allowed only for loopback hosts", base)
		default:
			return fmt.Errorf("clevertap: base URL %q: scheme must be https", base)
		}
		c.baseURL = u.Scheme + "://" + u.Host
		return nil
	}
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// WithCredentials sets the account ID and passcode sent with every request.
func WithCredentials(accountID string, p Passcode) Option {
	return func(c *Client) error {
		if strings.TrimSpace(accountID) == "" {
			return errors.New("clevertap: account ID is empty")
		}
		if p == "" {
			return errors.New("clevertap: passcode is empty")
		}
		if hasControl(accountID) || hasControl(string(p)) {
			return errors.New("clevertap: account ID and passcode must not contain control characters")
		}
		c.creds = &credentials{accountID: accountID, passcode: p}
		return nil
	}
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return true
		}
	}
	return false
}

// WithHTTPClient sends requests through hc. hc is not mutated; the client
// uses a shallow copy that refuses redirects, so the passcode header never
// follows one to another host.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("clevertap: HTTP client is nil")
		}
		c.hc = noRedirects(hc)
		return nil
	}
}

// WithQuota sets CleverTap's limits and the share of them to use (see
// Quota); q must be valid, zero fields are not defaulted. The client caps
// in-flight requests per group at q.PerGroup(). It does not build a rate
// limiter from q.RPS: pass one built from q.PerSecond() with
// WithRateLimiter.
func WithQuota(q Quota) Option {
	return func(c *Client) error {
		if err := q.Validate(); err != nil {
			return err
		}
		c.quota = q
		return nil
	}
}

// WithMaxProfileBytes caps the size of a profile answer (default 8 MiB). A
// larger answer is not read further and fails with ErrTooLarge.
func WithMaxProfileBytes(n int64) Option {
	return func(c *Client) error {
		if n < 1<<10 {
			return fmt.Errorf("clevertap: max profile bytes %d is below 1 KiB", n)
		}
		c.maxProfile = n
		return nil
	}
}

// WithMaxEventBytes caps one record of an event page (default 1 MiB) and a
// whole page (default 128 MiB). Pages are decoded as a stream, record by
// record, so no more than about these many bytes are read or held; an
// answer over a cap fails with ErrTooLarge.
func WithMaxEventBytes(record, page int64) Option {
	return func(c *Client) error {
		switch {
		case record < 1<<10:
			return fmt.Errorf("clevertap: max event record bytes %d is below 1 KiB", record)
		case page < record:
			return fmt.Errorf("clevertap: max event page bytes %d is below the record cap %d", page, record)
		}
		c.maxRecord, c.maxPage = record, page
		return nil
	}
}

// WithRateLimiter makes every HTTP attempt, retries included, wait on l.
// Share one limiter between clients to pace them together.
func WithRateLimiter(l Limiter) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("clevertap: rate limiter is nil")
		}
		c.limiter = l
		return nil
	}
}

// WithRetry sets the retry policy.
func WithRetry(p RetryPolicy) Option {
	return func(c *Client) error {
		p = p.withDefaults()
		if err := p.validate(); err != nil {
			return err
		}
		c.retry = p
		return nil
	}
}

// WithRequestTimeout bounds every attempt of a profile lookup, a delete and
// an export's step 1 (default 30 s), from sending the request to reading the
// whole answer. An attempt that times out is retried like a transport
// timeout and counts towards the breaker. Event pages have their own,
// longer timeout (WithPageTimeout). A caller's http.Client Timeout, if any,
// applies as well.
func WithRequestTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("clevertap: request timeout %v is not positive", d)
		}
		c.requestTimeout = d
		return nil
	}
}

// WithPageTimeout bounds every attempt of an event page (default 2 min; see
// DefaultPageTimeout for why pages get longer than other calls).
func WithPageTimeout(d time.Duration) Option {
	return func(c *Client) error {
		if d <= 0 {
			return fmt.Errorf("clevertap: page timeout %v is not positive", d)
		}
		c.pageTimeout = d
		return nil
	}
}

// WithBreaker sets when the client stops trying: once at least minFailures
// attempts in a row failed on the network (refused, reset, timed out, DNS)
// and no attempt was answered within window, every call fails at once with
// ErrUnreachable for one window; then attempts are let through again and
// the first answer closes the breaker. Defaults: 2 minutes and 5.
// WithBreaker(0, 0) disables it.
func WithBreaker(window time.Duration, minFailures int) Option {
	return func(c *Client) error {
		switch {
		case window == 0 && minFailures == 0:
			c.brk = nil
		case window <= 0 || minFailures < 1:
			return fmt.Errorf("clevertap: breaker window %v and minimum %d must both be positive (or both 0 to disable it)", window, minFailures)
		default:
			c.brk = &breaker{window: window, min: minFailures}
		}
		return nil
	}
}

// WithLogger logs through l (under the group "clevertap"). Per-attempt lines
// are at Debug level and never contain query strings, emails, identities or
// the passcode.
func WithLogger(l *slog.Logger) Option {
	return func(c *Client) error {
		if l == nil {
			return errors.New("clevertap: logger is nil")
		}
		c.log = l.WithGroup("clevertap")
		return nil
	}
}

// WithTimezone sets the account timezone in which CleverTap renders event
// timestamps (ts); the default is UTC.
func WithTimezone(loc *time.Location) Option {
	return func(c *Client) error {
		if loc == nil {
			return errors.New("clevertap: timezone is nil")
		}
		c.tz = loc
		return nil
	}
}

// defaultHTTPClient has bounded dial and TLS handshake times and enough
// idle connections for every group's in-flight cap. It has no overall
// Timeout: each attempt is bounded by the client's per-attempt timeout
// (WithRequestTimeout, WithPageTimeout).
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: DefaultDialTimeout, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = DefaultDialTimeout
	t.MaxIdleConnsPerHost = 16
	return noRedirects(&http.Client{Transport: t})
}

func noRedirects(hc *http.Client) *http.Client {
	cp := *hc
	cp.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &cp
}
