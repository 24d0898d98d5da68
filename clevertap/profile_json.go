package clevertap

import (
	"encoding/json"
	"time"
)

type profileResponse struct {
	envelope
	Record *profileRecord `json:"record"`
}

// profileRecord is a profile as CleverTap sends it. Every field is optional
// and decoded leniently; only platformInfo, which carries the objectIds an
// erasure needs, must be an array of objects when present.
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
	Count     flexInt `json:"count"`
	FirstSeen flexInt `json:"first_seen"`
	LastSeen  flexInt `json:"last_seen"`
}

// deviceJSON is one platformInfo entry. Besides the device fields it may
// carry the profile's email and event summary, and df, ls and phone.
type deviceJSON struct {
	Platform   flexString                  `json:"platform"`
	ObjectID   flexString                  `json:"objectId"`
	OSVersion  flexString                  `json:"os_version"`
	AppVersion flexString                  `json:"app_version"`
	Make       flexString                  `json:"make"`
	Model      flexString                  `json:"model"`
	PushToken  flexString                  `json:"push_token"`
	Phone      flexString                  `json:"phone"`
	LastSeen   looseInt                    `json:"ls"`
	Email      flexString                  `json:"email"`
	Events     map[string]eventSummaryJSON `json:"events"`
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
	for _, d := range r.devices {
		p.Platforms = append(p.Platforms, Device{
			Platform: string(d.Platform), ObjectID: string(d.ObjectID), OSVersion: string(d.OSVersion),
			AppVersion: string(d.AppVersion), Make: string(d.Make), Model: string(d.Model), PushToken: string(d.PushToken),
			Phone: string(d.Phone), LastSeen: epoch(int64(d.LastSeen)),
		})
		if p.Email == "" {
			p.Email = string(d.Email)
		}
		if p.Phone == "" {
			p.Phone = string(d.Phone)
		}
	}
	p.Events = summaries(r.Events)
	if len(r.Events) == 0 {
		for _, d := range r.devices {
			mergeSummaries(&p.Events, d.Events)
		}
	}
	return p
}

// summaries converts an events summary; nil when there is none.
func summaries(in map[string]eventSummaryJSON) map[string]EventSummary {
	var out map[string]EventSummary
	mergeSummaries(&out, in)
	return out
}

// mergeSummaries adds in to *out: counts add up, first and last seen widen.
func mergeSummaries(out *map[string]EventSummary, in map[string]eventSummaryJSON) {
	for name, e := range in {
		if *out == nil {
			*out = make(map[string]EventSummary, len(in))
		}
		s := EventSummary{Count: int64(e.Count), FirstSeen: epoch(int64(e.FirstSeen)), LastSeen: epoch(int64(e.LastSeen))}
		if prev, ok := (*out)[name]; ok {
			s.Count += prev.Count
			s.FirstSeen = earliest(prev.FirstSeen, s.FirstSeen)
			s.LastSeen = latest(prev.LastSeen, s.LastSeen)
		}
		(*out)[name] = s
	}
}

func earliest(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func epoch(s int64) time.Time {
	if s <= 0 {
		return time.Time{}
	}
	return time.Unix(s, 0).UTC()
}
