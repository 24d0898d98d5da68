package clevertap

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// LookupKey is the query key of a single-profile lookup.
type LookupKey string

// The keys GET /1/profile.json accepts.
const (
	ByEmail    LookupKey = "email"
	ByIdentity LookupKey = "identity"
	ByObjectID LookupKey = "objectId" // a device's CleverTap ID (guid)
)

// Profile is one CleverTap user profile as GET /1/profile.json returns it.
// Fields CleverTap did not send are empty: a record may lack identity,
// email and name. When the record has no top-level email or events but its
// platformInfo entries carry them (a shape seen in profiles.json output),
// Email is the first device's email and Events merges the devices'
// summaries; Phone likewise falls back to the first device's phone.
type Profile struct {
	Identity, Email, Name, Phone string
	ProfileData                  json.RawMessage         // as received (may be nil)
	Events                       map[string]EventSummary // lifetime summary per event name
	Platforms                    []Device
	PlatformInfo                 json.RawMessage // platformInfo as received, every field kept
}

// EventSummary is a profile's lifetime summary of one event.
type EventSummary struct {
	Count               int64
	FirstSeen, LastSeen time.Time // UTC; zero when CleverTap sent none
}

// Device is one entry of a profile's platformInfo.
type Device struct {
	Platform, ObjectID, OSVersion, AppVersion, Make, Model, PushToken string
	Phone                                                             string    // sent as a string or a JSON number
	LastSeen                                                          time.Time // "ls", epoch seconds, as UTC; zero when absent
}

// ObjectIDs returns every device objectId of the profile, in order, without
// duplicates or empty values.
func (p *Profile) ObjectIDs() []string {
	var ids []string
	seen := make(map[string]bool, len(p.Platforms))
	for _, d := range p.Platforms {
		if d.ObjectID != "" && !seen[d.ObjectID] {
			seen[d.ObjectID] = true
			ids = append(ids, d.ObjectID)
		}
	}
	return ids
}

// Profile looks up one profile by email, identity or objectId. Only an
// answer that says so yields ErrNotFound: HTTP 200 "success" without a
// record, or a "fail" answer on HTTP 200, 400 or 404 whose text says the
// profile does not exist. Any other refusal is ErrInvalidRequest (or
// another class), never ErrNotFound. The record is not checked against the
// question: a caller that looked up by email or identity should compare the
// record's email or identity with what it asked for. An answer over the
// cap (WithMaxProfileBytes) is ErrTooLarge.
func (c *Client) Profile(ctx context.Context, by LookupKey, value string) (*Profile, error) {
	op := "profile by " + string(by)
	if by != ByEmail && by != ByIdentity && by != ByObjectID {
		return nil, invalidf("profile", "unknown lookup key %q", string(by))
	}
	if strings.TrimSpace(value) == "" {
		return nil, invalidf(op, "empty value")
	}
	var resp profileResponse
	cl := &call{op: op, group: GroupProfile, method: http.MethodGet, path: "/1/profile.json",
		query: string(by) + "=" + url.QueryEscape(value), secret: []string{value, url.QueryEscape(value)},
		limit: c.maxProfile, timeout: c.requestTimeout, miss: true}
	if err := c.do(ctx, cl, &resp); err != nil {
		return nil, err
	}
	if resp.Record == nil {
		return nil, fmt.Errorf("clevertap: %s: %w", op, ErrNotFound)
	}
	return resp.Record.profile(), nil
}
