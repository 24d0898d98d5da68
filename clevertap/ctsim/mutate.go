package ctsim

import (
	"cmp"
	"crypto/sha256"
	"fmt"
	"slices"
	"time"
)

// AddProfile stores p as a new live profile. A profile without devices gets
// one Web device with a fresh objectId. It panics if an objectId of p is
// already stored: that is a mistake in the calling test.
func (s *Server) AddProfile(p Profile) {
	s.locked(func() {
		if len(p.Devices) == 0 {
			p.Devices = []Device{{ObjectID: s.newObjectID(p.Identity + p.Email), Platform: "Web"}}
		}
		if p.CreatedAt.IsZero() {
			p.CreatedAt = s.now
		}
		if p.UpdatedAt.IsZero() {
			p.UpdatedAt = p.CreatedAt
		}
		if _, err := s.st.addProfile(p); err != nil {
			panic("ctsim: AddProfile: " + err.Error())
		}
	})
}

// AddEvent stores e. It panics if e has no name or its objectId belongs to
// no live profile: that is a mistake in the calling test.
func (s *Server) AddEvent(e Event) {
	s.locked(func() {
		if e.Time.IsZero() {
			e.Time = s.now
		}
		if err := s.st.addEvent(e); err != nil {
			panic("ctsim: AddEvent: " + err.Error())
		}
	})
}

// Recreate models a deleted user coming back: a new profile with identity
// and email, one new Web device and one "App Launched" event now. It
// returns the new objectId.
func (s *Server) Recreate(identity, email string) (objectID string) {
	s.locked(func() {
		objectID = s.newObjectID(identity + email)
		p := Profile{
			Identity: identity, Email: email, CreatedAt: s.now, UpdatedAt: s.now,
			Devices: []Device{{ObjectID: objectID, Platform: "Web"}},
		}
		if _, err := s.st.addProfile(p); err != nil {
			panic("ctsim: Recreate: " + err.Error()) // cannot happen: the objectId is fresh
		}
		if err := s.st.addEvent(Event{ObjectID: objectID, Name: "App Launched", Time: s.now}); err != nil {
			panic("ctsim: Recreate: " + err.Error())
		}
	})
	return objectID
}

// newObjectID returns a Web-style objectId (a UUID) that no device has,
// derived from seed and a counter so runs repeat. The caller holds the
// mutex.
func (s *Server) newObjectID(seed string) string {
	for {
		s.newIDs++
		sum := sha256.Sum256(fmt.Appendf(nil, "%s/%d", seed, s.newIDs))
		id := uuidOf(sum[:16])
		if _, taken := s.st.byObjectID[id]; !taken && len(s.st.events[id]) == 0 {
			return id
		}
	}
}

// uuidOf formats 16 bytes as a version-4 style UUID.
func uuidOf(b []byte) string {
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// Lookup returns the live profiles whose email (ignoring case) or identity
// matches; an empty argument matches nothing. Profiles are in the order
// they were added.
func (s *Server) Lookup(email, identity string) []Profile {
	var out []Profile
	s.locked(func() {
		var recs []*profileRec
		if email != "" {
			recs = s.st.matchEmail(email)
		}
		if identity != "" {
			for _, rec := range s.st.matchIdentity(identity) {
				if !slices.Contains(recs, rec) {
					recs = append(recs, rec)
				}
			}
		}
		slices.SortFunc(recs, func(a, b *profileRec) int { return cmp.Compare(a.id, b.id) })
		for _, rec := range recs {
			out = append(out, rec.p.clone())
		}
	})
	return out
}

// EventsOf returns the live events of these devices, ordered by time.
func (s *Server) EventsOf(objectIDs ...string) []Event {
	var recs []*eventRec
	s.locked(func() {
		seen := map[string]bool{}
		for _, id := range objectIDs {
			if !seen[id] {
				seen[id] = true
				recs = append(recs, s.st.events[id]...)
			}
		}
	})
	slices.SortFunc(recs, compareEvents)
	out := make([]Event, 0, len(recs))
	for _, r := range recs {
		out = append(out, r.e.clone())
	}
	return out
}

// PendingDeletions returns the objectIds of profiles marked for deletion
// whose time has not come yet.
func (s *Server) PendingDeletions() []string {
	var out []string
	s.locked(func() {
		for _, rec := range s.st.marked {
			for _, d := range rec.p.Devices {
				out = append(out, d.ObjectID)
			}
		}
	})
	return out
}

// deletionTimes is for the admin endpoint: objectId → when it goes.
func (s *Server) deletionTimes() map[string]time.Time {
	out := map[string]time.Time{}
	s.locked(func() {
		for _, rec := range s.st.marked {
			for _, d := range rec.p.Devices {
				out[d.ObjectID] = rec.deleteAt
			}
		}
	})
	return out
}
