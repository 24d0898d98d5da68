// Package batchtest provides an in-memory batch.Store for tests of the run
// engine: every method is atomic (one mutex, validated before anything
// changes), follows the documented semantics of batch.Store and the
// lifecycle table (batch.CheckMove), and returns the context's error when
// the context is already done, as a database would. It passes the same
// conformance suite as the SQLite ledger (batch/storetest). Accessors let
// tests read what a run left behind, and Violations lists calls the engine
// should never make.
package batchtest

import (
	"context"
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
// It is batch.ErrUnknownRequest.
var ErrUnknownRequest = batch.ErrUnknownRequest

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
	seq        int64 // the Seq of the last request added
	parts      map[batch.PartID]*part
	lastPart   batch.PartID // the id of the last part begun
	calls      map[string]int
	violations []string
}

// part is one part of an event export (batch.Store.BeginEvents).
type part struct {
	requestID, name, runID string
	events                 []batch.Event
	exported               bool
}

// Record is everything the store holds about one request.
type Record struct {
	Request     batch.Request
	Seq         int64 // in the order Add stored requests, from 1
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
	Events   map[string][]batch.Event // exported, by event name: the parts' events in part order

	// Deletion.
	Plan              *batch.DeletionPlan
	DeleteRequestedAt time.Time
	Checks            []batch.Check
	LastCheckedAt     time.Time
	NextCheckAt       time.Time
	ResweptAt         time.Time
}

// NameExport is one exported event name of an access request.
type NameExport struct {
	Expected, Exported int64
}

// New returns a store holding reqs as pending requests.
func New(reqs ...batch.Request) *Store {
	s := &Store{reqs: map[string]*Record{}, parts: map[batch.PartID]*part{}, calls: map[string]int{}}
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
		s.seq++
		s.reqs[r.ID] = &Record{Request: r, Seq: s.seq, Status: batch.StatusPending,
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

// move checks that rec may move to st (batch.CheckMove) without changing
// anything.
func move(rec *Record, st batch.Status) error {
	return batch.CheckMove(rec.Request.Type, rec.Status, st)
}

// open checks that rec is not closed.
func open(rec *Record) error { return batch.CheckOpen(rec.Status) }

// ofType checks that rec is a request of type t.
func ofType(rec *Record, t batch.RequestType, op string) error {
	if rec.Request.Type != t {
		return fmt.Errorf("batchtest: %s: %w: request %s is a %s request", op, batch.ErrWrongType, rec.Request.ID, rec.Request.Type)
	}
	return nil
}

// setStatus moves rec to st, which the caller has checked with move. A
// request that closes loses its pending event parts; a status that
// discards drops the exported bundle too, as the ledger does.
func (s *Store) setStatus(rec *Record, st batch.Status, detail string, at time.Time) {
	rec.Status, rec.Detail = st, detail
	rec.Statuses = append(rec.Statuses, st)
	if st.Terminal() {
		rec.CompletedAt = at
	}
	for id, p := range s.parts {
		if p.requestID == rec.Request.ID && (st.Terminal() && !p.exported || st.Discards()) {
			delete(s.parts, id)
		}
	}
	if st.Discards() {
		rec.Profiles = nil
		rec.Names = map[string]NameExport{}
		rec.Events = map[string][]batch.Event{}
	}
}

// OpenWork returns up to limit requests of type kind (every type when kind
// is "") not in a terminal status (an accepted delete is not terminal: it
// still needs verifying) after the cursor, by due date (none last), then
// request id.
func (s *Store) OpenWork(ctx context.Context, kind batch.RequestType, after batch.WorkCursor, limit int) ([]batch.Work, batch.WorkCursor, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "OpenWork", ""); err != nil {
		return nil, after, err
	}
	var all []batch.Work
	for _, rec := range s.reqs {
		if rec.Status.Terminal() || (kind != "" && rec.Request.Type != kind) {
			continue
		}
		w := batch.Work{Request: rec.Request, Seq: rec.Seq, Status: rec.Status, Attempts: rec.Attempts,
			DeleteRequestedAt: rec.DeleteRequestedAt, Checks: len(rec.Checks),
			LastCheckedAt: rec.LastCheckedAt, NextCheckAt: rec.NextCheckAt}
		if !after.Before(w) {
			continue
		}
		if len(rec.Names) > 0 {
			w.DoneEventNames = map[string]int64{}
			for name, n := range rec.Names {
				w.DoneEventNames[name] = n.Exported
			}
		}
		if rec.Plan != nil {
			w.Plan = clonePlan(rec.Plan)
		}
		all = append(all, w)
	}
	slices.SortFunc(all, func(a, b batch.Work) int {
		switch {
		case batch.CursorOf(a).Before(b):
			return -1
		case batch.CursorOf(b).Before(a):
			return 1
		}
		return 0
	})
	if len(all) > limit {
		all = all[:limit]
	}
	if len(all) == 0 {
		return nil, after, nil
	}
	return all, batch.CursorOf(all[len(all)-1]), nil
}

// CountOpen counts the requests of type kind (every type when kind is "")
// not in a terminal status.
func (s *Store) CountOpen(ctx context.Context, kind batch.RequestType) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "CountOpen", ""); err != nil {
		return 0, err
	}
	n := 0
	for _, rec := range s.reqs {
		if !rec.Status.Terminal() && (kind == "" || rec.Request.Type == kind) {
			n++
		}
	}
	return n, nil
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
	if err := ofType(rec, batch.Access, "SaveProfiles"); err != nil {
		return err
	}
	if err := open(rec); err != nil {
		return fmt.Errorf("batchtest: SaveProfiles: %w", err)
	}
	for _, p := range profiles {
		switch p.MatchedBy {
		case batch.MatchedByEmail, batch.MatchedByIdentity, batch.MatchedByBoth:
		default:
			return fmt.Errorf("batchtest: SaveProfiles: request %s: matched_by %q", requestID, p.MatchedBy)
		}
	}
	rec.Profiles = make([]batch.FoundProfile, len(profiles))
	for i, p := range profiles {
		p.ObjectIDs = slices.Clone(p.ObjectIDs)
		rec.Profiles[i] = p
	}
	touch(rec, runID)
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
	if err := move(rec, st); err != nil {
		return fmt.Errorf("batchtest: SetStatus: request %s: %w", requestID, err)
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
	if err := open(rec); err != nil {
		return fmt.Errorf("batchtest: RecordFailure: request %s: %w", requestID, err)
	}
	if f.GiveUp {
		if err := move(rec, batch.StatusFailed); err != nil {
			return fmt.Errorf("batchtest: RecordFailure: request %s: %w", requestID, err)
		}
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
	if err := ofType(rec, batch.Deletion, "PlanDeletion"); err != nil {
		return err
	}
	if err := open(rec); err != nil {
		return fmt.Errorf("batchtest: PlanDeletion: request %s: %w", requestID, err)
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
		if err := ofType(rec, batch.Deletion, "MarkDeleteSubmitted"); err != nil {
			return err
		}
		if err := move(rec, batch.StatusDeleteSubmitted); err != nil {
			return fmt.Errorf("batchtest: MarkDeleteSubmitted: request %s: %w", id, err)
		}
		if rec.Plan == nil {
			return fmt.Errorf("batchtest: MarkDeleteSubmitted: request %s has no deletion plan", id)
		}
	}
	for _, id := range requestIDs {
		rec := s.reqs[id]
		s.setStatus(rec, batch.StatusDeleteSubmitted, "delete accepted by CleverTap; verifying", at)
		rec.DeleteRequestedAt, rec.NextCheckAt = at, next
		rec.Attempts, rec.LastFailure = 0, batch.Failure{} // a fresh start for verification
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
	if err := ofType(rec, batch.Deletion, "RecordCheck"); err != nil {
		return err
	}
	if rec.Status != batch.StatusDeleteSubmitted || rec.Plan == nil || rec.DeleteRequestedAt.IsZero() {
		return fmt.Errorf("batchtest: RecordCheck: request %s: %w: it is %s, not a delete awaiting verification",
			requestID, batch.ErrTransition, rec.Status)
	}
	if err := move(rec, c.Status); err != nil {
		return fmt.Errorf("batchtest: RecordCheck: request %s: %w", requestID, err)
	}
	rec.Checks = append(rec.Checks, c)
	rec.LastCheckedAt, rec.NextCheckAt = c.At, c.Next
	if c.Status != rec.Status || c.Detail != "" {
		s.setStatus(rec, c.Status, c.Detail, c.At)
	}
	touch(rec, runID)
	return nil
}

// ResweepDue returns verified deletions verified at or before before and
// not swept again, the oldest first.
func (s *Store) ResweepDue(ctx context.Context, before time.Time, limit int) ([]batch.Work, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "ResweepDue", ""); err != nil {
		return nil, err
	}
	var due []*Record
	for _, rec := range s.reqs {
		if rec.Status == batch.StatusVerified && !rec.CompletedAt.After(before) && rec.ResweptAt.IsZero() {
			due = append(due, rec)
		}
	}
	slices.SortFunc(due, func(a, b *Record) int {
		if c := a.CompletedAt.Compare(b.CompletedAt); c != 0 {
			return c
		}
		return strings.Compare(a.Request.ID, b.Request.ID)
	})
	var out []batch.Work
	for _, rec := range due[:min(limit, len(due))] {
		w := batch.Work{Request: rec.Request, Status: rec.Status, DeleteRequestedAt: rec.DeleteRequestedAt, Checks: len(rec.Checks)}
		if rec.Plan != nil {
			w.Plan = clonePlan(rec.Plan)
		}
		out = append(out, w)
	}
	return out, nil
}

// RecordResweep records the second sweep of a verified deletion.
func (s *Store) RecordResweep(ctx context.Context, runID, requestID string, r batch.Resweep) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.begin(ctx, "RecordResweep", requestID); err != nil {
		return err
	}
	rec, err := s.record(requestID)
	if err != nil {
		return err
	}
	if err := ofType(rec, batch.Deletion, "RecordResweep"); err != nil {
		return err
	}
	if rec.Status != batch.StatusVerified || !rec.ResweptAt.IsZero() {
		return fmt.Errorf("batchtest: RecordResweep: request %s: %w: it is %s, not a verified deletion awaiting its second sweep",
			requestID, batch.ErrTransition, rec.Status)
	}
	if r.Back {
		if err := move(rec, batch.StatusReappeared); err != nil {
			return fmt.Errorf("batchtest: RecordResweep: request %s: %w", requestID, err)
		}
		s.setStatus(rec, batch.StatusReappeared, r.Detail, r.At)
	}
	rec.ResweptAt = r.At
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

// Violations lists the calls the engine should never have made although
// the store accepted them: a plan that drops ids planned before. (Moves the
// lifecycle refuses are errors, as in the ledger.)
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
