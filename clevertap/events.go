package clevertap

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// MaxBatchSize is the largest batch_size CleverTap documents for exports.
const MaxBatchSize = 5000

// EventQuery selects one event's records over a range of days. CleverTap
// cannot filter by user except, possibly, through FilterEmail.
type EventQuery struct {
	EventName   string
	From, To    Date // inclusive, in the account timezone
	BatchSize   int  // records per page; 0 means 5000, more than 5000 is refused
	FilterEmail string
	// FilterEmail, when set, asks CleverTap to keep only users whose Email
	// equals it (CQL common_profile_properties). If CleverTap refuses the
	// filter the export fails with ErrFilterRejected: run it again without
	// one and filter the records yourself. It may also be ignored, so
	// filter the records anyway.
}

// EventRecord is one event of an export.
type EventRecord struct {
	ObjectID, Platform, Identity, Email, Phone string
	ProfileData                                json.RawMessage
	Time                                       time.Time // ts in the account timezone, as UTC
	TS                                         int64     // ts as received (yyyyMMddHHmmss)
	EventProps, SessionProps                   json.RawMessage
}

// Events streams the records of an event export page by page, opening a
// cursor (POST /1/events.json) and following next_cursor. Pages that are not
// ready yet are retried on the same cursor. After yielding a non-nil error
// the sequence stops. Breaking out of the loop stops fetching.
func (c *Client) Events(ctx context.Context, q EventQuery) iter.Seq2[[]EventRecord, error] {
	return func(yield func([]EventRecord, error) bool) {
		cursor, err := c.openEvents(ctx, q)
		for err == nil && cursor != "" {
			var page []EventRecord
			var next string
			if page, next, err = c.eventsPage(ctx, cursor); err != nil {
				break
			}
			if next == cursor {
				err = fmt.Errorf("clevertap: events page: %w: next_cursor repeats the current one", ErrCursor)
				break
			}
			if len(page) > 0 && !yield(page, nil) {
				return
			}
			cursor = next
		}
		if err != nil {
			yield(nil, err)
		}
	}
}

func (q EventQuery) validate() error {
	switch {
	case strings.TrimSpace(q.EventName) == "":
		return invalidf("events", "event name is empty")
	case !q.From.Valid() || !q.To.Valid():
		return invalidf("events", "from %v and to %v must be YYYYMMDD days", q.From, q.To)
	case q.From > q.To:
		return invalidf("events", "from %v is after to %v", q.From, q.To)
	case q.BatchSize < 0 || q.BatchSize > MaxBatchSize:
		return invalidf("events", "batch size %d is outside 1..%d", q.BatchSize, MaxBatchSize)
	}
	return nil
}

// stepOneFlags choose what each exported record's profile carries.
// events=false leaves out the profile's lifetime event summary, about three
// quarters of a record that nothing here reads; profile=true keeps the
// profile's properties, whose email lets a caller filter records when
// CleverTap ignores the profile filter. app (device fields) stays at its
// default, false.
const stepOneFlags = "&events=false&profile=true"

// openEvents is step 1: post the CQL query, get the first cursor.
func (c *Client) openEvents(ctx context.Context, q EventQuery) (string, error) {
	if err := q.validate(); err != nil {
		return "", err
	}
	body, err := json.Marshal(newCQL(q))
	if err != nil {
		return "", fmt.Errorf("clevertap: events: encoding query: %w", err)
	}
	var resp struct {
		envelope
		Cursor string `json:"cursor"`
	}
	cl := &call{op: "events", group: GroupEvents, method: http.MethodPost, path: "/1/events.json",
		query: "batch_size=" + strconv.Itoa(orDefault(q.BatchSize, MaxBatchSize)) + stepOneFlags, body: body, filter: q.FilterEmail != "",
		secret: []string{q.FilterEmail}, limit: maxSmallBody, timeout: c.requestTimeout, pending: true}
	if err := c.do(ctx, cl, &resp); err != nil {
		return "", err
	}
	if resp.Cursor == "" {
		return "", malformed(cl.op, "no cursor")
	}
	return resp.Cursor, nil
}

// eventsPage is step 2: fetch the page of cursor. The cursor is appended to
// the query byte for byte; it arrives percent-encoded already.
func (c *Client) eventsPage(ctx context.Context, cursor string) ([]EventRecord, string, error) {
	const op = "events page"
	if !queryable(cursor) {
		return nil, "", fmt.Errorf("clevertap: %s: %w: cursor holds bytes that cannot travel in a URL query", op, ErrCursor)
	}
	resp := newPageResponse(c.tz, c.maxRecord, c.maxPage)
	cl := &call{op: op, group: GroupEvents, method: http.MethodGet, path: "/1/events.json",
		query: "cursor=" + cursor, secret: []string{cursor}, limit: c.maxPage, timeout: c.pageTimeout,
		cursor: true, pending: true}
	if err := c.do(ctx, cl, resp); err != nil {
		return nil, "", err
	}
	if resp.bad != nil {
		return nil, "", malformed(op, "%v", resp.bad)
	}
	return resp.Records, resp.NextCursor, nil
}

// orDefault returns n, or def when n is 0.
func orDefault(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

// queryable reports whether s can be appended to a query unchanged: printable
// ASCII without '#' (which would start a fragment).
func queryable(s string) bool {
	for i := 0; i < len(s); i++ {
		if b := s[i]; b <= ' ' || b >= 0x7f || b == '#' {
			return false
		}
	}
	return s != ""
}

// cql is the step-1 body.
type cql struct {
	EventName string      `json:"event_name"`
	From      Date        `json:"from"`
	To        Date        `json:"to"`
	Common    *cqlProfile `json:"common_profile_properties,omitempty"`
}

type cqlProfile struct {
	ProfileFields []cqlField `json:"profile_fields"`
}

type cqlField struct {
	Name     string `json:"name"`
	Operator string `json:"operator"`
	Value    string `json:"value"`
}

func newCQL(q EventQuery) cql {
	b := cql{EventName: q.EventName, From: q.From, To: q.To}
	if q.FilterEmail != "" {
		b.Common = &cqlProfile{ProfileFields: []cqlField{{Name: "Email", Operator: "equals", Value: q.FilterEmail}}}
	}
	return b
}

// eventJSON is one record as CleverTap sends it. Some clients see objectId,
// identity and profileData at the top level rather than inside profile; both
// are read, profile first.
type eventJSON struct {
	Profile      eventProfileJSON `json:"profile"`
	ObjectID     flexString       `json:"objectId"`
	Identity     flexString       `json:"identity"`
	ProfileData  json.RawMessage  `json:"profileData"`
	TS           json.Number      `json:"ts"`
	EventProps   json.RawMessage  `json:"event_props"`
	SessionProps json.RawMessage  `json:"session_props"`
}

type eventProfileJSON struct {
	ObjectID    flexString      `json:"objectId"`
	Platform    flexString      `json:"platform"`
	Identity    flexString      `json:"identity"`
	Email       flexString      `json:"email"`
	Phone       flexString      `json:"phone"`
	ProfileData json.RawMessage `json:"profileData"`
}

func (e *eventJSON) record(r *EventRecord, loc *time.Location) error {
	ts, err := e.TS.Int64()
	if err != nil {
		return fmt.Errorf("ts %q is not an integer", clip(e.TS.String(), 20))
	}
	t, err := parseTS(ts, loc)
	if err != nil {
		return err
	}
	*r = EventRecord{
		ObjectID:     string(first(e.Profile.ObjectID, e.ObjectID)),
		Platform:     string(e.Profile.Platform),
		Identity:     string(first(e.Profile.Identity, e.Identity)),
		Email:        string(e.Profile.Email),
		Phone:        string(e.Profile.Phone),
		ProfileData:  e.Profile.ProfileData,
		Time:         t,
		TS:           ts,
		EventProps:   e.EventProps,
		SessionProps: e.SessionProps,
	}
	if r.ProfileData == nil {
		r.ProfileData = e.ProfileData
	}
	return nil
}

func first(a, b flexString) flexString {
	if a != "" {
		return a
	}
	return b
}
