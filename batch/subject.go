package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/ctdsr/ctdsr/clevertap"
)

// subject is one data subject as CleverTap knows them: every distinct
// profile found by the request's email and user id.
type subject struct {
	req        Request
	profiles   []*clevertap.Profile
	found      []FoundProfile
	objectIDs  map[string]bool
	identities map[string]bool
	emails     map[string]bool // normalised (normEmail)
	// conflicts are the profiles found that contradict the request's row
	// (see check); with --on-conflict review they end the request.
	conflicts []conflict
}

// resolver finds a request's subject in CleverTap: the lookups by email and
// by user id, shared by the run and the dry run.
type resolver struct {
	api CleverTap
	now func() time.Time
}

// resolve looks the request's subject up by email and by user id, each one
// given, and returns the union of distinct profiles. A lookup that finds
// nothing is not an error.
func (r resolver) resolve(ctx context.Context, req Request) (*subject, error) {
	s := newSubject(req)
	if req.Email != "" {
		if err := r.lookup(ctx, s, clevertap.ByEmail, req.Email, MatchedByEmail); err != nil {
			return nil, err
		}
	}
	if req.UserID != "" {
		if err := r.lookup(ctx, s, clevertap.ByIdentity, req.UserID, MatchedByIdentity); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func newSubject(req Request) *subject {
	return &subject{req: req, objectIDs: map[string]bool{}, identities: map[string]bool{}, emails: map[string]bool{}}
}

func (r resolver) lookup(ctx context.Context, s *subject, by clevertap.LookupKey, value string, m MatchedBy) error {
	p, err := r.api.Profile(ctx, by, value)
	if errors.Is(err, clevertap.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s.conflicts = append(s.conflicts, s.check(p, "lookup by "+string(m), "")...)
	s.add(p, m, r.now())
	return nil
}

// conflict is a profile that contradicts the request's row.
type conflict struct {
	ids   []string // the profile's objectIds
	field string   // what differs: "email", "user id", or "objectId" for a wrong answer
	via   string   // how the profile was found
}

func (c conflict) String() string {
	ids := "without an objectId"
	if len(c.ids) > 0 {
		ids = strings.Join(c.ids, ", ")
	}
	if c.field == "objectId" {
		return fmt.Sprintf("the answer to a %s was profile %s, which does not hold the objectId asked for", c.via, ids)
	}
	return fmt.Sprintf("profile %s (found by %s) has a different %s than the row", ids, c.via, c.field)
}

// describe renders conflicts for a request's detail. It names fields and
// objectIds, never the emails or user ids themselves.
func describe(cs []conflict) string {
	parts := make([]string, len(cs))
	for i, c := range cs {
		parts[i] = c.String()
	}
	return strings.Join(parts, "; ")
}

// fields lists the contradicting fields, for a log line.
func fields(cs []conflict) []string {
	var out []string
	for _, c := range cs {
		if !slices.Contains(out, c.field) {
			out = append(out, c.field)
		}
	}
	return out
}

// check returns how p contradicts the request's row: a profile belongs to
// the row only if (the row has no email, or p has none, or they are the
// same email) and (the row has no user id, or p has no identity, or they
// are equal). A lookup's answer is checked against its question the same
// way (a lookup by email asks for the row's email, by identity for its
// user id); asked is the objectId a lookup by objectId asked for.
func (s *subject) check(p *clevertap.Profile, via, asked string) []conflict {
	var out []conflict
	ids := p.ObjectIDs()
	if s.req.Email != "" && p.Email != "" && normEmail(p.Email) != normEmail(s.req.Email) {
		out = append(out, conflict{ids, "email", via})
	}
	if s.req.UserID != "" && p.Identity != "" && p.Identity != s.req.UserID {
		out = append(out, conflict{ids, "user id", via})
	}
	if asked != "" && !slices.Contains(ids, asked) {
		out = append(out, conflict{ids, "objectId", via})
	}
	return out
}

// normEmail is the form emails are compared in: trimmed, Unicode NFC,
// lower-case.
func normEmail(e string) string {
	return strings.ToLower(norm.NFC.String(strings.TrimSpace(e)))
}

// add merges p into the subject and reports whether it was a profile not
// yet known. A profile already found (sharing an objectId, or the same
// identity and email when it has none) only widens MatchedBy.
func (s *subject) add(p *clevertap.Profile, m MatchedBy, at time.Time) bool {
	for i, q := range s.profiles {
		if sameProfile(p, q) {
			for _, id := range p.ObjectIDs() {
				s.objectIDs[id] = true // a device added since the other lookup
			}
			if s.found[i].MatchedBy != m {
				s.found[i].MatchedBy = MatchedByBoth
			}
			return false
		}
	}
	s.profiles = append(s.profiles, p)
	s.found = append(s.found, flatten(p, m, at))
	for _, id := range p.ObjectIDs() {
		s.objectIDs[id] = true
	}
	if p.Identity != "" {
		s.identities[p.Identity] = true
	}
	if p.Email != "" {
		s.emails[normEmail(p.Email)] = true
	}
	return true
}

// sameProfile reports whether a and b are the same CleverTap profile: they
// share a device, or, without devices, identity and email.
func sameProfile(a, b *clevertap.Profile) bool {
	ids, others := a.ObjectIDs(), b.ObjectIDs()
	if len(ids) == 0 || len(others) == 0 {
		return len(ids) == len(others) && a.Identity == b.Identity && normEmail(a.Email) == normEmail(b.Email)
	}
	return slices.ContainsFunc(ids, func(id string) bool { return slices.Contains(others, id) })
}

// owns reports whether an exported event belongs to the subject: by one of
// its objectIds, its identities, or its email (which also catches orphan
// profiles CleverTap's one-record lookup does not return).
func (s *subject) owns(e *clevertap.EventRecord) bool {
	return s.objectIDs[e.ObjectID] ||
		(e.Identity != "" && s.identities[e.Identity]) ||
		(e.Email != "" && s.emails[normEmail(e.Email)])
}

// flatten turns a profile into the ledger's bundle row.
func flatten(p *clevertap.Profile, m MatchedBy, at time.Time) FoundProfile {
	return FoundProfile{
		MatchedBy:        m,
		ObjectIDs:        slices.Clone(p.ObjectIDs()),
		Identity:         p.Identity,
		Email:            p.Email,
		Name:             p.Name,
		Phone:            p.Phone,
		ProfileDataJSON:  rawJSON(p.ProfileData, "{}"),
		EventSummaryJSON: summaryJSON(p.Events),
		PlatformInfoJSON: rawJSON(p.PlatformInfo, "[]"),
		RetrievedAt:      at.UTC(),
	}
}

func rawJSON(b json.RawMessage, empty string) string {
	if len(b) == 0 || string(b) == "null" {
		return empty
	}
	return string(b)
}

type summaryEntry struct {
	Count     int64  `json:"count"`
	FirstSeen string `json:"first_seen"`
	LastSeen  string `json:"last_seen"`
}

func summaryJSON(ev map[string]clevertap.EventSummary) string {
	m := make(map[string]summaryEntry, len(ev))
	for name, s := range ev {
		m[name] = summaryEntry{s.Count, s.FirstSeen.UTC().Format(time.RFC3339), s.LastSeen.UTC().Format(time.RFC3339)}
	}
	b, err := json.Marshal(m) // map keys are sorted: output is stable
	if err != nil {
		return "{}"
	}
	return string(b)
}
