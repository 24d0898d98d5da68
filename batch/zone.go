package batch

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ctdsr/ctdsr/clevertap"
)

// CleverTap writes an exported event's time (ts) as the wall clock of the
// account's timezone, with no offset. A profile's event summary gives the
// first and last time it did each event as epoch seconds, and the export
// of that event holds a record at exactly those moments: read in the right
// zone, a record's ts equals the summary's instant; read in another, it is
// off by the difference of the zones' offsets. Every export is checked
// this way, before its events are saved.

// ErrWrongZone means the exported data shows the account's timezone is not
// the one the run uses: its event times would all be off.
var ErrWrongZone = errors.New("the account's timezone is not the one in use")

// ZoneError says what the data showed: the offset found at an instant,
// the zones that have it there, and how much evidence there was.
type ZoneError struct {
	InUse    *time.Location
	Offset   time.Duration // the account's UTC offset the records show
	At       time.Time     // an instant it was seen at
	Zones    []string      // IANA zones with that offset at every instant seen
	Records  int           // first/last-seen moments checked without a match in the zone in use
	Matching int           // of them, explained by Offset
}

func (e *ZoneError) Error() string {
	zones := "no IANA zone has it"
	suggest := ""
	if len(e.Zones) > 0 {
		shown := e.Zones
		if len(shown) > 8 {
			shown = append(slices.Clone(shown[:8]), fmt.Sprintf("… %d more", len(e.Zones)-8))
		}
		zones = "IANA zones with that offset then: " + strings.Join(shown, ", ")
		suggest = fmt.Sprintf("; run again with --timezone %s (once given, the ledger remembers it)", suggestZone(e.Zones))
	}
	return fmt.Sprintf("%v: exported event times read as %s put %d of %d first/last-seen moments off; "+
		"the records show a UTC offset of %s (at %s): %s%s; no event was saved",
		ErrWrongZone, e.InUse, e.Matching, e.Records, formatOffset(e.Offset), e.At.UTC().Format(time.RFC3339), zones, suggest)
}

func (e *ZoneError) Unwrap() error { return ErrWrongZone }

// ZoneEvidence is what a run's exports showed of the timezone, for the
// run's summary.
type ZoneEvidence struct {
	Zone     string `json:"zone"`
	Checked  int    `json:"moments_checked"`  // first/last-seen moments of exported profiles examined
	Agreeing int    `json:"moments_agreeing"` // of them, matched exactly by a record in Zone
	Other    int    `json:"moments_other"`    // matched only at another offset
}

// zoneCheck gathers the evidence of a run. Until some moment agrees with
// the zone in use, exports take turns (one probes, the others wait), so
// that a wrong zone is found before any export's events are saved.
type zoneCheck struct {
	loc  *time.Location
	turn chan struct{} // held by the export probing while unconfirmed

	mu        sync.Mutex
	confirmed bool
	ev        ZoneEvidence
}

func newZoneCheck(loc *time.Location) *zoneCheck {
	return &zoneCheck{loc: loc, turn: make(chan struct{}, 1), ev: ZoneEvidence{Zone: loc.String()}}
}

// Evidence returns what the run's exports showed.
func (z *zoneCheck) evidence() ZoneEvidence {
	z.mu.Lock()
	defer z.mu.Unlock()
	return z.ev
}

// anchor is a first- or last-seen moment of one profile for one event.
type anchor struct {
	at      time.Time
	agreed  bool
	offsets map[time.Duration]bool
}

// tally examines the records of one export for one subject.
type tally struct {
	z       *zoneCheck
	byID    map[string][]*anchor // objectId → its profile's anchors for the name
	anchors []*anchor
}

// tally starts the examination of an export of name for subject s.
func (z *zoneCheck) tally(s *subject, name string) *tally {
	t := &tally{z: z, byID: map[string][]*anchor{}}
	for _, p := range s.profiles {
		sum, ok := p.Events[name]
		if !ok {
			continue
		}
		var mine []*anchor
		for _, at := range []time.Time{sum.FirstSeen, sum.LastSeen} {
			if at.IsZero() || slices.ContainsFunc(mine, func(a *anchor) bool { return a.at.Equal(at) }) {
				continue
			}
			a := &anchor{at: at, offsets: map[time.Duration]bool{}}
			mine = append(mine, a)
			t.anchors = append(t.anchors, a)
		}
		for _, id := range p.ObjectIDs() {
			t.byID[id] = mine
		}
	}
	return t
}

// maxOffset bounds the UTC offsets of real zones.
const maxOffset = 14 * time.Hour

// see examines one record of the subject.
func (t *tally) see(rec *clevertap.EventRecord, at time.Time) {
	for _, a := range t.byID[rec.ObjectID] {
		if at.Equal(a.at) {
			a.agreed = true
			continue
		}
		wall, err := clevertap.TSTime(rec.TS, time.UTC) // the ts digits, as if UTC
		if err != nil {
			continue
		}
		if d := wall.Sub(a.at); d%(15*time.Minute) == 0 && d >= -maxOffset && d <= maxOffset {
			a.offsets[d] = true
		}
	}
}

// settle adds an export's evidence to the run's and returns a *ZoneError
// when, with no moment ever agreeing with the zone in use, this export's
// moments show another offset.
func (t *tally) settle() error {
	z := t.z
	z.mu.Lock()
	defer z.mu.Unlock()
	var other []*anchor
	for _, a := range t.anchors {
		switch {
		case a.agreed:
			z.ev.Checked++
			z.ev.Agreeing++
		case len(a.offsets) > 0:
			z.ev.Checked++
			z.ev.Other++
			other = append(other, a)
		}
	}
	if z.ev.Agreeing > 0 {
		z.confirmed = true
		return nil
	}
	if len(other) == 0 {
		return nil // nothing to go by yet
	}
	return z.wrong(other)
}

// wrong builds the error for moments that match only at other offsets:
// the offset explaining most of them, and the zones that have it at each.
func (z *zoneCheck) wrong(other []*anchor) error {
	votes := map[time.Duration]int{}
	for _, a := range other {
		for d := range a.offsets {
			votes[d]++
		}
	}
	var best time.Duration
	for d, n := range votes {
		if n > votes[best] || (n == votes[best] && d < best) {
			best = d
		}
	}
	var seen []time.Time
	for _, a := range other {
		if a.offsets[best] {
			seen = append(seen, a.at)
		}
	}
	return &ZoneError{InUse: z.loc, Offset: best, At: seen[0], Zones: zonesWithOffset(best, seen),
		Records: len(other), Matching: votes[best]}
}

// zonesWithOffset lists the IANA zones whose UTC offset is d at every one
// of the instants.
func zonesWithOffset(d time.Duration, at []time.Time) []string {
	var out []string
	for _, name := range ianaZones {
		loc, err := time.LoadLocation(name)
		if err != nil {
			continue
		}
		ok := true
		for _, t := range at {
			if _, off := t.In(loc).Zone(); time.Duration(off)*time.Second != d {
				ok = false
				break
			}
		}
		if ok {
			out = append(out, name)
		}
	}
	return out
}

// preferredZones are the zones of CleverTap's regions and the world's
// largest cities, suggested first when they fit the offset.
var preferredZones = []string{
	"Asia/Kolkata", "Asia/Singapore", "Asia/Jakarta", "Asia/Dubai", "Asia/Seoul", "Europe/London", "Europe/Berlin",
	"Europe/Paris", "America/New_York", "America/Chicago", "America/Denver", "America/Los_Angeles",
	"America/Sao_Paulo", "America/Mexico_City", "Asia/Tokyo", "Asia/Shanghai", "Australia/Sydney", "Asia/Karachi",
	"Asia/Dhaka", "Asia/Bangkok", "Asia/Manila", "Africa/Lagos", "Africa/Johannesburg", "Africa/Cairo",
	"Europe/Moscow", "Asia/Riyadh", "Asia/Kathmandu", "Asia/Tehran", "America/Bogota",
}

func suggestZone(zones []string) string {
	for _, p := range preferredZones {
		if slices.Contains(zones, p) {
			return p
		}
	}
	return zones[0]
}

// formatOffset writes an offset as ISO 8601 does: +05:30, -03:00.
func formatOffset(d time.Duration) string {
	sign := "+"
	if d < 0 {
		sign, d = "-", -d
	}
	return fmt.Sprintf("%s%02d:%02d", sign, int(d/time.Hour), int(d%time.Hour/time.Minute))
}

// begin takes a turn to export while the zone is unconfirmed; it returns
// the function that ends the turn. Once confirmed, exports run freely.
func (z *zoneCheck) begin(done <-chan struct{}) (end func(), ok bool) {
	z.mu.Lock()
	confirmed := z.confirmed
	z.mu.Unlock()
	if confirmed {
		return func() {}, true
	}
	select {
	case z.turn <- struct{}{}:
		return func() { <-z.turn }, true
	case <-done:
		return nil, false
	}
}
