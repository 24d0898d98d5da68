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

type profileResponse struct {
	envelope
	Record *profileRecord `json:"record"`
}

type profileRecord struct {
	Identity     flexString                  `json:"identity"`
	Email        flexString                  `json:"email"`
	Name         flexString                  `json:"name"`
	Phone        flexString                  `json:"phone"`
	ProfileData  json.RawMessage             `json:"profileData"`
	Events       map[string]eventSummaryJSON `json:"events"`
	PlatformInfo json.RawMessage             `json:"platformInfo"`
	devices      []deviceJSON
}

// UnmarshalJSON decodes the record and the devices of its platformInfo,
// keeping platformInfo itself as received.
func (r *profileRecord) UnmarshalJSON(b []byte) error {
	type plain profileRecord
	if err := json.Unmarshal(b, (*plain)(r)); err != nil {
		return err
	}
	if len(r.PlatformInfo) == 0 || string(r.PlatformInfo) == "null" {
		return nil
	}
	return json.Unmarshal(r.PlatformInfo, &r.devices)
}

type eventSummaryJSON struct {
	Count     int64 `json:"count"`
	FirstSeen int64 `json:"first_seen"`
	LastSeen  int64 `json:"last_seen"`
}

type deviceJSON struct {
	Platform   flexString `json:"platform"`
	ObjectID   flexString `json:"objectId"`
	OSVersion  flexString `json:"os_version"`
	AppVersion flexString `json:"app_version"`
	Make       flexString `json:"make"`
	Model      flexString `json:"model"`
	PushToken  flexString `json:"push_token"`
}

func (r *profileRecord) profile() *Profile {
	p := &Profile{
		Identity:     string(r.Identity),
		Email:        string(r.Email),
		Name:         string(r.Name),
		Phone:        string(r.Phone),
		ProfileData:  r.ProfileData,
		PlatformInfo: r.PlatformInfo,
	}
	if len(r.Events) > 0 {
		p.Events = make(map[string]EventSummary, len(r.Events))
		for name, e := range r.Events {
			p.Events[name] = EventSummary{Count: e.Count, FirstSeen: epoch(e.FirstSeen), LastSeen: epoch(e.LastSeen)}
		}
	}
	for _, d := range r.devices {
		p.Platforms = append(p.Platforms, Device{
			Platform: string(d.Platform), ObjectID: string(d.ObjectID), OSVersion: string(d.OSVersion),
			AppVersion: string(d.AppVersion), Make: string(d.Make), Model: string(d.Model), PushToken: string(d.PushToken),
		})
	}
	return p
}

func epoch(s int64) time.Time {
	if s == 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
