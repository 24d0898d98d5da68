// Package batchtest provides an in-memory batch.Store for tests of the run
// engine: every method is atomic (one mutex, validated before anything
// changes), follows the documented semantics of batch.Store, and returns
// the context's error when the context is already done, as a database
// would. Accessors let tests read what a run left behind, and Violations
// lists the calls the engine should never make.
package batchtest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

var _ batch.Store = (*Store)(nil)

// ErrUnknownRequest is returned for a request ID the store does not hold.
var ErrUnknownRequest = errors.New("batchtest: unknown request")

// Store is an in-memory, goroutine-safe batch.Store.
type Store struct {
	// FailOn, when set, is asked before every method runs; a non-nil
	// error is returned as the method's error and nothing changes. op is
	// the method name; requestID is empty for methods without one.
	FailOn func(op, requestID string) error
	// Now stamps the completion of a request failed by RecordFailure,
	// which carries no time; nil means time.Now.
	Now func() time.Time

	mu         sync.Mutex
	reqs       map[string]*Record
	calls      map[string]int
	violations []string
}

// Record is everything the store holds about one request.
type Record struct {
	Request     batch.Request
	Status      batch.Status
	Detail      string
	Attempts    int
	LastFailure batch.Failure
	CompletedAt time.Time
	Statuses    []batch.Status // every status set, in order
	Runs        []string       // runs that touched the request, in order, once each

	// Access.
	Profiles []batch.FoundProfile
	Names    map[string]NameExport    // event names exported
	Events   map[string][]batch.Event // by event name

	// Deletion.
	Plan              *batch.DeletionPlan
	DeleteRequestedAt time.Time
	Checks            []batch.Check
	LastCheckedAt     time.Time
	NextCheckAt       time.Time
}

// NameExport is one exported event name of an access request.
type NameExport struct {
	Expected, Exported int64
}

// New returns a store holding reqs as pending requests.
func New(reqs ...batch.Request) *Store {
	s := &Store{reqs: map[string]*Record{}, calls: map[string]int{}}
	s.Add(reqs...)
	return s
}

// Add stores reqs as new pending requests. It panics on a duplicate ID or an
// invalid type: that is a mistake in the calling test.
func (s *Store) Add(reqs ...batch.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, r := range reqs {
		if _, dup := s.reqs[r.ID]; dup || r.ID == "" || !r.Type.Valid() {
			panic(fmt.Sprintf("batchtest: Add: request %q is a duplicate or invalid", r.ID))
		}
		s.reqs[r.ID] = &Record{Request: r, Status: batch.StatusPending,
			Names: map[string]NameExport{}, Events: map[string][]batch.Event{}}
	}
}

// begin starts a method: it checks the context and the FailOn hook, and
// counts the call. The caller holds the mutex.
func (s *Store) begin(ctx context.Context, op, requestID string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("batchtest: %s: %w", op, err)
	}
	if s.FailOn != nil {
		if err := s.FailOn(op, requestID); err != nil {
			return err
		}
	}
	s.calls[op]++
	return nil
}

func (s *Store) record(id string) (*Record, error) {
	rec, ok := s.reqs[id]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrUnknownRequest, id)
	}
	return rec, nil
}

func (s *Store) violate(format string, args ...any) {
	s.violations = append(s.violations, fmt.Sprintf(format, args...))
}

// touch records that runID touched rec.
func touch(rec *Record, runID string) {
	if !slices.Contains(rec.Runs, runID) {
		rec.Runs = append(rec.Runs, runID)
	}
}

// reachable reports whether a request of type t can have status st.
func reachable(t batch.RequestType, st batch.Status) bool {
	switch st {
	case batch.StatusPending, batch.StatusNotFound, batch.StatusFailed:
		return true
	case batch.StatusDone:
		return t == batch.Access
	case batch.StatusDeleteSubmitted, batch.StatusVerified, batch.StatusReappeared:
		return t == batch.Deletion
	}
	return false
}

// setStatus moves rec to st, noting a move out of a terminal status as a
// violation: the engine must never reopen a finished request.
func (s *Store) setStatus(rec *Record, st batch.Status, detail string, at time.Time) {
	if rec.Status.Terminal(rec.Request.Type, false) && rec.Status != st {
		s.violate("request %s moved from terminal %s to %s", rec.Request.ID, rec.Status, st)
	}
	rec.Status, rec.Detail = st, detail
	rec.Statuses = append(rec.Statuses, st)
	if st.Terminal(rec.Request.Type, false) {
		rec.CompletedAt = at
	}
}

// OpenWork returns every request not in a terminal status (an accepted
// delete is not terminal: it still needs verifying), in request-ID order.
func (s *Store) OpenWork(ctx context.Context) ([]batch.Work, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "OpenWork", ""); err != nil {
		return nil, err
	}
	var out []batch.Work
	for _, id := range slices.Sorted(maps.Keys(s.reqs)) {
		rec := s.reqs[id]
		if rec.Status.Terminal(rec.Request.Type, false) {
			continue
		}
		w := batch.Work{Request: rec.Request, Status: rec.Status, Attempts: rec.Attempts,
			DeleteRequestedAt: rec.DeleteRequestedAt, Checks: len(rec.Checks),
			LastCheckedAt: rec.LastCheckedAt, NextCheckAt: rec.NextCheckAt}
		if len(rec.Names) > 0 {
			w.DoneEventNames = map[string]int64{}
			for name, n := range rec.Names {
				w.DoneEventNames[name] = n.Exported
			}
		}
		if rec.Plan != nil {
			w.Plan = clonePlan(rec.Plan)
		}
		out = append(out, w)
	}
	return out, nil
}

// SaveProfiles replaces the access bundle's profiles of a request.
func (s *Store) SaveProfiles(ctx context.Context, runID, requestID string, profiles []batch.FoundProfile) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "SaveProfiles", requestID); err != nil {
		return err
	}
	rec, err := s.record(requestID)
	if err != nil {
		return err
	}
	if rec.Request.Type != batch.Access {
		return fmt.Errorf("batchtest: SaveProfiles: request %s is a %s request", requestID, rec.Request.Type)
	}
	for _, p := range profiles {
		switch p.MatchedBy {
		case batch.MatchedByEmail, batch.MatchedByIdentity, batch.MatchedByBoth:
		default:
			return fmt.Errorf("batchtest: SaveProfiles: request %s: matched_by %q", requestID, p.MatchedBy)
		}
	}
	if rec.Status.Terminal(rec.Request.Type, false) {
		s.violate("SaveProfiles on finished request %s", requestID)
	}
	rec.Profiles = make([]batch.FoundProfile, len(profiles))
	for i, p := range profiles {
		p.ObjectIDs = slices.Clone(p.ObjectIDs)
		rec.Profiles[i] = p
	}
	touch(rec, runID)
	return nil
}

// SaveEvents commits, for each batch, the events of one (request, event
// name) and marks the name done, all at once: a name is wholly exported or
// not at all. Saving a name again replaces it.
func (s *Store) SaveEvents(ctx context.Context, runID string, batches []batch.EventBatch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "SaveEvents", ""); err != nil {
		return err
	}
	seen := map[[2]string]bool{}
	for _, b := range batches {
		rec, err := s.record(b.RequestID)
		if err != nil {
			return err
		}
		if rec.Request.Type != batch.Access {
			return fmt.Errorf("batchtest: SaveEvents: request %s is a %s request", b.RequestID, rec.Request.Type)
		}
		if b.EventName == "" {
			return fmt.Errorf("batchtest: SaveEvents: request %s: empty event name", b.RequestID)
		}
		key := [2]string{b.RequestID, b.EventName}
		if seen[key] {
			return fmt.Errorf("batchtest: SaveEvents: request %s, name %q twice in one call", b.RequestID, b.EventName)
		}
		seen[key] = true
		for _, e := range b.Events {
			if e.EventName != b.EventName {
				return fmt.Errorf("batchtest: SaveEvents: request %s: event of %q in the batch of %q", b.RequestID, e.EventName, b.EventName)
			}
		}
	}
	for _, b := range batches {
		rec := s.reqs[b.RequestID]
		if rec.Status.Terminal(rec.Request.Type, false) {
			s.violate("SaveEvents on finished request %s", b.RequestID)
		}
		rec.Names[b.EventName] = NameExport{Expected: b.Expected, Exported: int64(len(b.Events))}
		rec.Events[b.EventName] = slices.Clone(b.Events)
		touch(rec, runID)
	}
	return nil
}

// SetStatus moves a request to st; a terminal status sets CompletedAt.
func (s *Store) SetStatus(ctx context.Context, runID, requestID string, st batch.Status, detail string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "SetStatus", requestID); err != nil {
		return err
	}
	rec, err := s.record(requestID)
	if err != nil {
		return err
	}
	if !reachable(rec.Request.Type, st) {
		return fmt.Errorf("batchtest: SetStatus: a %s request cannot be %q", rec.Request.Type, st)
	}
	s.setStatus(rec, st, detail, at)
	touch(rec, runID)
	return nil
}

// RecordFailure counts a failed attempt; with f.GiveUp the request fails.
func (s *Store) RecordFailure(ctx context.Context, runID, requestID string, f batch.Failure) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "RecordFailure", requestID); err != nil {
		return err
	}
	rec, err := s.record(requestID)
	if err != nil {
		return err
	}
	if f.Class == "" {
		return fmt.Errorf("batchtest: RecordFailure: request %s: empty class", requestID)
	}
	rec.Attempts++
	rec.LastFailure = f
	if f.GiveUp {
		now := time.Now
		if s.Now != nil {
			now = s.Now
		}
		s.setStatus(rec, batch.StatusFailed, f.Message, now())
	}
	touch(rec, runID)
	return nil
}

// PlanDeletion records (or replaces) the ids a deletion sends.
func (s *Store) PlanDeletion(ctx context.Context, runID, requestID string, plan batch.DeletionPlan) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "PlanDeletion", requestID); err != nil {
		return err
	}
	rec, err := s.record(requestID)
	if err != nil {
		return err
	}
	if rec.Request.Type != batch.Deletion {
		return fmt.Errorf("batchtest: PlanDeletion: request %s is an %s request", requestID, rec.Request.Type)
	}
	if rec.Plan != nil {
		for _, id := range rec.Plan.ObjectIDs {
			if !slices.Contains(plan.ObjectIDs, id) {
				s.violate("PlanDeletion of %s drops objectId %s", requestID, id)
			}
		}
	}
	rec.Plan = clonePlan(&plan)
	touch(rec, runID)
	return nil
}

// MarkDeleteSubmitted records that CleverTap accepted every id of these
// requests at at; they become StatusDeleteSubmitted, next check due at next.
func (s *Store) MarkDeleteSubmitted(ctx context.Context, runID string, requestIDs []string, at, next time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "MarkDeleteSubmitted", strings.Join(requestIDs, ",")); err != nil {
		return err
	}
	for _, id := range requestIDs {
		rec, err := s.record(id)
		if err != nil {
			return err
		}
		if rec.Plan == nil {
			return fmt.Errorf("batchtest: MarkDeleteSubmitted: request %s has no deletion plan", id)
		}
	}
	for _, id := range requestIDs {
		rec := s.reqs[id]
		s.setStatus(rec, batch.StatusDeleteSubmitted, "delete accepted by CleverTap; verifying", at)
		rec.DeleteRequestedAt, rec.NextCheckAt = at, next
		touch(rec, runID)
	}
	return nil
}

// RecordCheck records one verification search and its outcome.
func (s *Store) RecordCheck(ctx context.Context, runID, requestID string, c batch.Check) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "RecordCheck", requestID); err != nil {
		return err
	}
	rec, err := s.record(requestID)
	if err != nil {
		return err
	}
	if rec.Request.Type != batch.Deletion || !reachable(batch.Deletion, c.Status) {
		return fmt.Errorf("batchtest: RecordCheck: request %s cannot be %q", requestID, c.Status)
	}
	if rec.Plan == nil || rec.DeleteRequestedAt.IsZero() {
		s.violate("RecordCheck on request %s before its delete was accepted", requestID)
	}
	if rec.Status.Terminal(rec.Request.Type, false) {
		s.violate("RecordCheck on finished request %s", requestID)
	}
	rec.Checks = append(rec.Checks, c)
	rec.LastCheckedAt, rec.NextCheckAt = c.At, c.Next
	if c.Status != rec.Status || c.Detail != "" {
		s.setStatus(rec, c.Status, c.Detail, c.At)
	}
	touch(rec, runID)
	return nil
}

func clonePlan(p *batch.DeletionPlan) *batch.DeletionPlan {
	c := *p
	c.ObjectIDs, c.Identities = slices.Clone(p.ObjectIDs), slices.Clone(p.Identities)
	return &c
}

// Get returns a copy of the record of request id.
func (s *Store) Get(id string) (Record, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.reqs[id]
	if !ok {
		return Record{}, false
	}
	return rec.clone(), true
}

// All returns copies of every record, in request-ID order.
func (s *Store) All() []Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Record, 0, len(s.reqs))
	for _, id := range slices.Sorted(maps.Keys(s.reqs)) {
		out = append(out, s.reqs[id].clone())
	}
	return out
}

// Events returns every exported event of request id, all names together,
// in name order.
func (s *Store) Events(id string) []batch.Event {
	s.mu.Lock()
	defer s.mu.Unlock()
	rec, ok := s.reqs[id]
	if !ok {
		return nil
	}
	var out []batch.Event
	for _, name := range slices.Sorted(maps.Keys(rec.Events)) {
		out = append(out, rec.Events[name]...)
	}
	return out
}

// Statuses counts requests by status.
func (s *Store) Statuses() map[batch.Status]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[batch.Status]int{}
	for _, rec := range s.reqs {
		out[rec.Status]++
	}
	return out
}

// Calls counts the calls of each method that got past the context and
// FailOn checks.
func (s *Store) Calls() map[string]int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.calls)
}

// Violations lists the calls the engine should never have made: moving a
// finished request, saving to one, dropping planned ids, checking a
// deletion that was never accepted.
func (s *Store) Violations() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.violations)
}

func (r *Record) clone() Record {
	c := *r
	c.Statuses = slices.Clone(r.Statuses)
	c.Runs = slices.Clone(r.Runs)
	c.Profiles = slices.Clone(r.Profiles)
	c.Names = maps.Clone(r.Names)
	c.Events = make(map[string][]batch.Event, len(r.Events))
	for name, evs := range r.Events {
		c.Events[name] = slices.Clone(evs)
	}
	if r.Plan != nil {
		c.Plan = clonePlan(r.Plan)
	}
	c.Checks = slices.Clone(r.Checks)
	return c
}
