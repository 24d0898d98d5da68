package ctsim

import (
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// eventSummary is one entry of a profile record's "events": lifetime count
// and first and last time, in Unix epoch seconds.
type eventSummary struct {
	Count     int   `json:"count"`
	FirstSeen int64 `json:"first_seen"`
	LastSeen  int64 `json:"last_seen"`
}

// platformInfo is one device in a profile record. Email and Events are
// set only with Options.NestedPlatformInfo, on the first device.
type platformInfo struct {
	Platform   string                  `json:"platform,omitempty"`
	ObjectID   string                  `json:"objectId"`
	OSVersion  string                  `json:"os_version,omitempty"`
	AppVersion string                  `json:"app_version,omitempty"`
	Make       string                  `json:"make,omitempty"`
	Model      string                  `json:"model,omitempty"`
	PushToken  string                  `json:"push_token,omitempty"`
	Email      string                  `json:"email,omitempty"`
	Events     map[string]eventSummary `json:"events,omitempty"`
}

// profileRecord is the "record" of profile.json and one record of a
// profiles.json page.
type profileRecord struct {
	Identity     string                  `json:"identity,omitempty"`
	Email        string                  `json:"email,omitempty"`
	Name         string                  `json:"name,omitempty"`
	Phone        string                  `json:"phone,omitempty"`
	ProfileData  map[string]any          `json:"profileData,omitempty"`
	Events       map[string]eventSummary `json:"events,omitempty"`
	PlatformInfo []platformInfo          `json:"platformInfo"`
}

// recordFlags are the app, events and profile URL flags of an export.
type recordFlags struct{ app, events, profile bool }

var defaultFlags = recordFlags{app: false, events: true, profile: true}

// profileRecordOf renders rec; the caller holds the mutex.
func (s *Server) profileRecordOf(rec *profileRec, fl recordFlags) profileRecord {
	p := rec.p
	out := profileRecord{Identity: p.Identity, Email: p.Email, Name: p.Name, Phone: p.Phone}
	if fl.profile {
		out.ProfileData = p.ProfileData
	}
	if n := s.opts.PadProfileBytes; n > 0 {
		out.ProfileData = cloneMap(out.ProfileData)
		if out.ProfileData == nil {
			out.ProfileData = map[string]any{}
		}
		out.ProfileData["_pad"] = strings.Repeat("x", n)
	}
	if fl.events {
		out.Events = s.st.summary(rec)
	}
	for _, d := range p.Devices {
		out.PlatformInfo = append(out.PlatformInfo, platformInfo{
			Platform: d.Platform, ObjectID: d.ObjectID, OSVersion: d.OSVersion,
			AppVersion: d.AppVersion, Make: d.Make, Model: d.Model, PushToken: d.PushToken,
		})
	}
	if s.opts.NestedPlatformInfo && len(out.PlatformInfo) > 0 {
		out.PlatformInfo[0].Email, out.PlatformInfo[0].Events = out.Email, out.Events
		out.Email, out.Events = "", nil
	}
	return out
}

// eventProfile is the "profile" object of one events.json record.
type eventProfile struct {
	ObjectID    string                  `json:"objectId"`
	Platform    string                  `json:"platform,omitempty"`
	Email       string                  `json:"email,omitempty"`
	Identity    string                  `json:"identity,omitempty"`
	Name        string                  `json:"name,omitempty"`
	Phone       string                  `json:"phone,omitempty"`
	ProfileData map[string]any          `json:"profileData,omitempty"`
	ID          int64                   `json:"id,omitempty"`
	Make        string                  `json:"make,omitempty"`
	Model       string                  `json:"model,omitempty"`
	OSVersion   string                  `json:"os_version,omitempty"`
	AppVersion  string                  `json:"app_version,omitempty"`
	PushToken   string                  `json:"push_token,omitempty"`
	DF          []any                   `json:"df,omitempty"`
	Events      map[string]eventSummary `json:"events,omitempty"`
}

// appendEventRecord appends one record of an events.json page:
// {"profile":…,"ts":…,"event_props":{…},"session_props":{…}}. The profile
// part is already JSON; building the record by hand spares re-validating
// it, which dominated the cost of large exports.
func appendEventRecord(b []byte, profile json.RawMessage, ts int64, eventProps, sessionProps map[string]any) []byte {
	b = append(b, `{"profile":`...)
	b = append(b, profile...)
	b = append(b, `,"ts":`...)
	b = strconv.AppendInt(b, ts, 10)
	b = append(b, `,"event_props":`...)
	b = appendMap(b, eventProps)
	b = append(b, `,"session_props":`...)
	b = appendMap(b, sessionProps)
	return append(b, '}')
}

// appendMap appends m as a JSON object; nil is {}.
func appendMap(b []byte, m map[string]any) []byte {
	if len(m) == 0 {
		return append(b, "{}"...)
	}
	enc, err := json.Marshal(m)
	if err != nil { // a value JSON cannot hold, e.g. NaN from a hand-made dataset
		return append(b, "{}"...)
	}
	return append(b, enc...)
}

// eventProfileOf renders the profile object for device objectID; rec is nil
// when the profile is gone but its events were kept. With
// Options.AnonymousEventRecords it has the shape of a real export without
// identity: no identity, email, name, phone or id, but df and the device
// fields whatever the app flag says. The caller holds the mutex.
func (s *Server) eventProfileOf(objectID string, rec *profileRec, fl recordFlags) json.RawMessage {
	out := eventProfile{ObjectID: objectID}
	if rec != nil {
		p := rec.p
		anon := s.opts.AnonymousEventRecords
		if !anon {
			out.Email, out.Identity, out.Name, out.Phone, out.ID = p.Email, p.Identity, p.Name, p.Phone, rec.id
		}
		for _, d := range p.Devices {
			if d.ObjectID != objectID {
				continue
			}
			out.Platform = d.Platform
			if fl.app || anon {
				out.Make, out.Model, out.OSVersion, out.AppVersion, out.PushToken = d.Make, d.Model, d.OSVersion, d.AppVersion, d.PushToken
			}
			if anon {
				out.DF = deviceFingerprint(d)
			}
		}
		if fl.profile {
			out.ProfileData = p.ProfileData
		}
		if fl.events {
			out.Events = s.st.summary(rec)
		}
	}
	b, _ := json.Marshal(out) // plain data: cannot fail
	return b
}

// deviceFingerprint is a "df" array as real exports carry it: three values
// of mixed types about the device (their meaning is not documented).
func deviceFingerprint(d Device) []any {
	return []any{len(d.ObjectID), d.Platform, map[string]any{"h": len(d.Model)}}
}

// tsOf renders t as CleverTap's yyyyMMddHHmmss integer in loc.
func tsOf(t time.Time, loc *time.Location) int64 {
	t = t.In(loc)
	return int64(t.Year())*1e10 + int64(t.Month())*1e8 + int64(t.Day())*1e6 +
		int64(t.Hour())*1e4 + int64(t.Minute())*1e2 + int64(t.Second())
}

// appendJSON renders a page by hand: its records are already JSON.
func (p pageReply) appendJSON(b []byte) []byte {
	b = append(b, `{"status":`...)
	b = strconv.AppendQuote(b, p.Status)
	if p.PreviousCursor != "" {
		b = append(b, `,"previous_cursor":`...)
		b = strconv.AppendQuote(b, p.PreviousCursor)
	}
	if p.NextCursor != "" {
		b = append(b, `,"next_cursor":`...)
		b = strconv.AppendQuote(b, p.NextCursor)
	}
	if len(p.Records) > 0 {
		b = append(b, `,"records":[`...)
		for i, r := range p.Records {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, r...)
		}
		b = append(b, ']')
	}
	return append(b, '}')
}
