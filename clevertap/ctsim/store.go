package ctsim

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// profileRec is a stored profile. p is never mutated after it is stored, so
// snapshots may share it; deleteAt is guarded by the server's mutex.
type profileRec struct {
	id       int64 // the "id" CleverTap shows in event records
	p        Profile
	deleteAt time.Time // zero: not marked for deletion
}

// eventRec is a stored event; e is never mutated after it is stored.
type eventRec struct {
	seq int64 // insertion order, breaks ties between equal times
	e   Event
}

// store is the simulator's data. Every method needs the server's mutex.
type store struct {
	keepEvents bool
	nextID     int64
	nextSeq    int64
	profiles   []*profileRec            // in insertion order
	byObjectID map[string]*profileRec   // every device of every live profile
	byEmail    map[string][]*profileRec // by lower-cased email
	byIdentity map[string][]*profileRec
	events     map[string][]*eventRec // by objectId, ordered by time
	marked     []*profileRec          // profiles waiting for their deleteAt
}

func newStore(keepEvents bool) *store {
	return &store{
		keepEvents: keepEvents, byObjectID: map[string]*profileRec{}, events: map[string][]*eventRec{},
		byEmail: map[string][]*profileRec{}, byIdentity: map[string][]*profileRec{},
	}
}

func (st *store) addProfile(p Profile) (*profileRec, error) {
	if len(p.Devices) == 0 {
		return nil, fmt.Errorf("profile %q has no devices", p.Identity)
	}
	for _, d := range p.Devices {
		if d.ObjectID == "" {
			return nil, fmt.Errorf("profile %q has a device without an objectId", p.Identity)
		}
		if _, dup := st.byObjectID[d.ObjectID]; dup {
			return nil, fmt.Errorf("objectId %s belongs to two profiles", d.ObjectID)
		}
	}
	st.nextID++
	rec := &profileRec{id: st.nextID, p: p.clone()}
	st.profiles = append(st.profiles, rec)
	for _, d := range p.Devices {
		st.byObjectID[d.ObjectID] = rec
	}
	if p.Email != "" {
		k := strings.ToLower(p.Email)
		st.byEmail[k] = append(st.byEmail[k], rec)
	}
	if p.Identity != "" {
		st.byIdentity[p.Identity] = append(st.byIdentity[p.Identity], rec)
	}
	return rec, nil
}

func (st *store) addEvent(e Event) error {
	if e.Name == "" {
		return fmt.Errorf("event of %s has no name", e.ObjectID)
	}
	if _, ok := st.byObjectID[e.ObjectID]; !ok {
		return fmt.Errorf("event %q refers to unknown objectId %q", e.Name, e.ObjectID)
	}
	st.nextSeq++
	rec := &eventRec{seq: st.nextSeq, e: e.clone()}
	evs := st.events[e.ObjectID]
	i, _ := slices.BinarySearchFunc(evs, rec, compareEvents)
	st.events[e.ObjectID] = slices.Insert(evs, i, rec)
	return nil
}

func compareEvents(a, b *eventRec) int {
	if c := a.e.Time.Compare(b.e.Time); c != 0 {
		return c
	}
	return cmp.Compare(a.seq, b.seq)
}

// purge removes the profiles whose deleteAt has come, and their events
// unless events outlive profiles.
func (st *store) purge(now time.Time) {
	if len(st.marked) == 0 {
		return
	}
	gone := map[*profileRec]bool{}
	st.marked = slices.DeleteFunc(st.marked, func(rec *profileRec) bool {
		if now.Before(rec.deleteAt) {
			return false
		}
		gone[rec] = true
		unindex(st.byEmail, strings.ToLower(rec.p.Email), rec)
		unindex(st.byIdentity, rec.p.Identity, rec)
		for _, d := range rec.p.Devices {
			delete(st.byObjectID, d.ObjectID)
			if !st.keepEvents {
				delete(st.events, d.ObjectID)
			}
		}
		return true
	})
	if len(gone) > 0 {
		st.profiles = slices.DeleteFunc(st.profiles, func(rec *profileRec) bool { return gone[rec] })
	}
}

// markDeleted marks rec to go at deleteAt; a profile already marked keeps
// its earlier time, so deleting twice changes nothing.
func (st *store) markDeleted(rec *profileRec, deleteAt time.Time) {
	if !rec.deleteAt.IsZero() {
		return
	}
	rec.deleteAt = deleteAt
	st.marked = append(st.marked, rec)
}

func unindex(idx map[string][]*profileRec, key string, rec *profileRec) {
	recs := slices.DeleteFunc(idx[key], func(r *profileRec) bool { return r == rec })
	if len(recs) == 0 {
		delete(idx, key)
	} else {
		idx[key] = recs
	}
}

// matchEmail returns the stored profiles whose email equals email, ignoring
// case, in the order they were added.
func (st *store) matchEmail(email string) []*profileRec {
	return slices.Clone(st.byEmail[strings.ToLower(email)])
}

func (st *store) matchIdentity(identity string) []*profileRec {
	return slices.Clone(st.byIdentity[identity])
}

// eventsOfProfile returns the events of every device of rec, by time.
func (st *store) eventsOfProfile(rec *profileRec) []*eventRec {
	var out []*eventRec
	for _, d := range rec.p.Devices {
		out = append(out, st.events[d.ObjectID]...)
	}
	if len(rec.p.Devices) > 1 {
		slices.SortFunc(out, compareEvents)
	}
	return out
}

// summary computes the lifetime event summary CleverTap shows in a profile
// record, from the stored events.
func (st *store) summary(rec *profileRec) map[string]eventSummary {
	evs := st.eventsOfProfile(rec)
	if len(evs) == 0 {
		return nil
	}
	out := map[string]eventSummary{}
	for _, ev := range evs {
		s, ok := out[ev.e.Name]
		t := ev.e.Time.Unix()
		if !ok {
			s = eventSummary{FirstSeen: t, LastSeen: t}
		}
		s.Count++
		s.FirstSeen = min(s.FirstSeen, t)
		s.LastSeen = max(s.LastSeen, t)
		out[ev.e.Name] = s
	}
	return out
}

// eventNames reports every event name any stored event has.
func (st *store) eventNames() map[string]bool {
	names := map[string]bool{}
	for _, evs := range st.events {
		for _, ev := range evs {
			names[ev.e.Name] = true
		}
	}
	return names
}
