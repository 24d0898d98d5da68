// Package storetest is the conformance suite of batch.Store, in the manner
// of go-cloud's drivertest: every implementation (the SQLite ledger in
// checkpoint, the in-memory batchtest.Store the engine tests use) runs the
// same tests, so a fake cannot drift from the real ledger.
//
// The suite checks the rules the engine relies on: OpenWork's order and
// contents, the lifecycle table's moves (batch.CheckMove), closed requests
// refusing writes, errors matching batch.ErrUnknownRequest,
// batch.ErrWrongType and batch.ErrTransition, and that a refused write
// changes nothing.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// Harness makes the stores the suite tests.
type Harness struct {
	// New returns a store holding reqs as new pending requests, and the id
	// of the run the suite's writes use (holding the store's lock, where
	// it has one). Cleanup is the harness's business (t.Cleanup).
	New func(t *testing.T, reqs ...batch.Request) (batch.Store, string)
	// Get reads back where request id stands, open or closed.
	Get func(t *testing.T, s batch.Store, id string) Snapshot
}

// Snapshot is what Harness.Get reads back of one request.
type Snapshot struct {
	Status   batch.Status
	Detail   string
	Attempts int
	Closed   bool // has a completion time
	Profiles int  // access profiles held
	Events   int  // exported events held, all names
}

// T0 is the time the suite's writes happen at.
var T0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// Access and Deletion are valid requests of each type with the given id.
func Access(id string) batch.Request {
	return batch.Request{ID: id, Type: batch.Access, Email: id + "@example.com",
		SubmittedAt: T0, DueAt: T0.Add(batch.DefaultDueAfter), Source: batch.SourceRef{File: "m.csv", Row: 2}}
}

// Deletion is a valid deletion request with the given id.
func Deletion(id string) batch.Request {
	r := Access(id)
	r.Type = batch.Deletion
	return r
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Harness)
	}{
		{"OpenWorkOrderAndContents", testOpenWork},
		{"OpenWorkByDueDateInPages", testOpenWorkPages},
		{"ClosedRequestsLeaveOpenWork", testClosedLeave},
		{"Moves", testMoves},
		{"RecordFailure", testRecordFailure},
		{"SaveEvents", testSaveEvents},
		{"SaveProfiles", testSaveProfiles},
		{"DeletionFlow", testDeletionFlow},
		{"ClosedRequestsRefuseWrites", testClosedRefuse},
		{"UnknownRequests", testUnknown},
		{"DiscardingStatusDropsTheBundle", testDiscards},
		{"SecondSweep", testResweep},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, h) })
	}
}

func must(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
}

// refused checks that err matches want and that nothing changed.
func refused(t *testing.T, what string, err, want error, before, after []Snapshot) {
	t.Helper()
	if err == nil || !errors.Is(err, want) {
		t.Errorf("%s = %v, want an error matching %v", what, err, want)
	}
	if !slices.Equal(before, after) {
		t.Errorf("%s was refused but changed the store:\nbefore %+v\nafter  %+v", what, before, after)
	}
}

// openWork reads every open request, two at a time.
func openWork(t *testing.T, s batch.Store) []batch.Work {
	t.Helper()
	var all []batch.Work
	var after batch.WorkCursor
	for {
		page, next, err := s.OpenWork(t.Context(), "", after, 2)
		if err != nil {
			t.Fatalf("OpenWork: %v", err)
		}
		all = append(all, page...)
		if len(page) < 2 {
			return all
		}
		after = next
	}
}

func ids(work []batch.Work) []string {
	var out []string
	for _, w := range work {
		out = append(out, w.ID)
	}
	return out
}

func snapshots(t *testing.T, h Harness, s batch.Store, reqIDs ...string) []Snapshot {
	t.Helper()
	out := make([]Snapshot, len(reqIDs))
	for i, id := range reqIDs {
		out[i] = h.Get(t, s, id)
	}
	return out
}

func testOpenWork(t *testing.T, h Harness) {
	s, _ := h.New(t, Deletion("R3"), Access("R1"), Access("R2"))
	work := openWork(t, s)
	if got := slices.Sorted(slices.Values(ids(work))); !slices.Equal(got, []string{"R1", "R2", "R3"}) {
		t.Fatalf("OpenWork ids = %v, want R1 R2 R3", got)
	}
	checkSeqs(t, work)
	for _, w := range work {
		want := Access(w.ID)
		if w.ID == "R3" {
			want = Deletion("R3")
		}
		if w.Type != want.Type || w.Email != want.Email || w.Status != batch.StatusPending || w.Attempts != 0 ||
			w.Plan != nil || len(w.DoneEventNames) != 0 || !w.DueAt.Equal(want.DueAt) || !w.SubmittedAt.Equal(want.SubmittedAt) {
			t.Errorf("OpenWork %s = %+v, want a fresh pending %s request", w.ID, w, want.Type)
		}
	}
}

// checkSeqs checks that work, all of one due date, comes in increasing
// Seq, every Seq positive.
func checkSeqs(t *testing.T, work []batch.Work) {
	t.Helper()
	for i, w := range work {
		if w.Seq <= 0 || i > 0 && w.Seq <= work[i-1].Seq {
			t.Errorf("OpenWork %v: Seq %d at %d, want positive and increasing", ids(work), w.Seq, i)
		}
	}
}

// readPages reads every open request of type kind in pages of size.
func readPages(t *testing.T, s batch.Store, kind batch.RequestType, size int) []batch.Work {
	t.Helper()
	var got []batch.Work
	var after batch.WorkCursor
	for range 20 {
		page, next, err := s.OpenWork(t.Context(), kind, after, size)
		if err != nil {
			t.Fatalf("OpenWork(%q): %v", kind, err)
		}
		got = append(got, page...)
		if len(page) < size {
			break
		}
		after = next
	}
	return got
}

// testOpenWorkPages: the oldest due date first, no due date last, by Seq
// within a date; every page size gives the same order; the pages of one
// type hold that type's requests in the same order; CountOpen agrees.
func testOpenWorkPages(t *testing.T, h Harness) {
	due := func(r batch.Request, d time.Duration) batch.Request {
		r.DueAt = T0.Add(d)
		return r
	}
	none := Access("N1")
	none.DueAt, none.SubmittedAt = time.Time{}, time.Time{}
	none2 := Deletion("N0")
	none2.DueAt, none2.SubmittedAt = time.Time{}, time.Time{}
	s, run := h.New(t, due(Access("R1"), 48*time.Hour), due(Deletion("R2"), 24*time.Hour), none,
		due(Access("R4"), 24*time.Hour), none2, due(Access("R5"), 72*time.Hour), due(Access("R0"), 24*time.Hour))
	// By due date: {R0 R2 R4} (24 h), R1 (48 h), R5 (72 h), {N0 N1} (none).
	groups := [][]string{{"R0", "R2", "R4"}, {"R1"}, {"R5"}, {"N0", "N1"}}
	var first []string
	for _, size := range []int{100, 1, 2, 3, 7} {
		got := readPages(t, s, "", size)
		if first == nil {
			first = ids(got)
			rest := got
			for _, g := range groups {
				n := min(len(g), len(rest))
				if gotIDs := slices.Sorted(slices.Values(ids(rest[:n]))); !slices.Equal(gotIDs, g) {
					t.Fatalf("OpenWork %v: want the due dates in order, %v", ids(got), groups)
				}
				checkSeqs(t, rest[:n])
				rest = rest[n:]
			}
		} else if !slices.Equal(ids(got), first) {
			t.Errorf("OpenWork in pages of %d: %v, want %v as in one page", size, ids(got), first)
		}
	}
	for _, kind := range []batch.RequestType{batch.Access, batch.Deletion} {
		var want []string // the order of every type, this type's requests only
		for _, id := range first {
			if (kind == batch.Deletion) == (id == "R2" || id == "N0") {
				want = append(want, id)
			}
		}
		for _, size := range []int{100, 1, 2, 3} {
			got := readPages(t, s, kind, size)
			for _, w := range got {
				if w.Type != kind {
					t.Errorf("OpenWork(%q) returned %s, a %s request", kind, w.ID, w.Type)
				}
			}
			if !slices.Equal(ids(got), want) {
				t.Errorf("OpenWork(%q) in pages of %d: %v, want %v", kind, size, ids(got), want)
			}
		}
	}
	must(t, "SetStatus", s.SetStatus(t.Context(), run, "R4", batch.StatusDone, "", T0))
	for kind, want := range map[batch.RequestType]int{"": 6, batch.Access: 4, batch.Deletion: 2} {
		if n, err := s.CountOpen(t.Context(), kind); err != nil || n != want {
			t.Errorf("CountOpen(%q) = %d, %v; want %d", kind, n, err, want)
		}
	}
}

func testClosedLeave(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Access("A2"), Deletion("D1"))
	ctx := t.Context()
	must(t, "SetStatus done", s.SetStatus(ctx, run, "A1", batch.StatusDone, "2 profile(s)", T0))
	must(t, "SetStatus not_found", s.SetStatus(ctx, run, "D1", batch.StatusNotFound, "nothing", T0))
	if got := ids(openWork(t, s)); !slices.Equal(got, []string{"A2"}) {
		t.Errorf("OpenWork after closing A1 and D1 = %v, want [A2]", got)
	}
	want := []Snapshot{{Status: batch.StatusDone, Detail: "2 profile(s)", Closed: true},
		{Status: batch.StatusPending}, {Status: batch.StatusNotFound, Detail: "nothing", Closed: true}}
	if got := snapshots(t, h, s, "A1", "A2", "D1"); !slices.Equal(got, want) {
		t.Errorf("after closing:\n got %+v\nwant %+v", got, want)
	}
}

// testMoves tries SetStatus from pending to every status of the table,
// for both types, and a move out of a closed status.
func testMoves(t *testing.T, h Harness) {
	for _, typ := range []batch.RequestType{batch.Access, batch.Deletion} {
		for _, info := range batch.Statuses() {
			to := info.Status
			t.Run(fmt.Sprintf("%s pending to %s", typ, to), func(t *testing.T) {
				r := Access("R1")
				r.Type = typ
				s, run := h.New(t, r)
				before := snapshots(t, h, s, "R1")
				err := s.SetStatus(t.Context(), run, "R1", to, "moved", T0)
				if want := batch.CheckMove(typ, batch.StatusPending, to); want != nil {
					refused(t, "SetStatus "+string(to), err, batch.ErrTransition, before, snapshots(t, h, s, "R1"))
					return
				}
				must(t, "SetStatus "+string(to), err)
				got := h.Get(t, s, "R1")
				if got.Status != to || got.Detail != "moved" || got.Closed != to.Terminal() {
					t.Errorf("after SetStatus %s: %+v (closed should be %v)", to, got, to.Terminal())
				}
			})
		}
	}
	t.Run("unknown status", func(t *testing.T) {
		s, run := h.New(t, Access("R1"))
		before := snapshots(t, h, s, "R1")
		err := s.SetStatus(t.Context(), run, "R1", "finished", "", T0)
		refused(t, "SetStatus finished", err, batch.ErrTransition, before, snapshots(t, h, s, "R1"))
	})
	t.Run("out of a closed status", func(t *testing.T) {
		s, run := h.New(t, Access("R1"))
		must(t, "SetStatus done", s.SetStatus(t.Context(), run, "R1", batch.StatusDone, "", T0))
		before := snapshots(t, h, s, "R1")
		err := s.SetStatus(t.Context(), run, "R1", batch.StatusFailed, "", T0)
		refused(t, "SetStatus done→failed", err, batch.ErrTransition, before, snapshots(t, h, s, "R1"))
	})
}

func testRecordFailure(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Deletion("D1"))
	ctx := t.Context()
	for range 2 {
		must(t, "RecordFailure", s.RecordFailure(ctx, run, "A1", batch.Failure{Class: "server", Message: "HTTP 503"}))
	}
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusPending, Attempts: 2}); got != want {
		t.Errorf("after two failed attempts: %+v, want %+v", got, want)
	}
	if w := openWork(t, s); len(w) != 2 || w[0].Attempts != 2 {
		t.Errorf("OpenWork after two failed attempts at A1: %+v", w)
	}
	must(t, "RecordFailure give up", s.RecordFailure(ctx, run, "A1", batch.Failure{Class: "invalid", Message: "HTTP 400", GiveUp: true}))
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusFailed, Detail: "HTTP 400", Attempts: 3, Closed: true}); got != want {
		t.Errorf("after giving up: %+v, want %+v", got, want)
	}
	before := snapshots(t, h, s, "A1", "D1")
	err := s.RecordFailure(ctx, run, "A1", batch.Failure{Class: "server", Message: "again"})
	refused(t, "RecordFailure on a failed request", err, batch.ErrTransition, before, snapshots(t, h, s, "A1", "D1"))
}

func events(name string, n int) []batch.Event {
	out := make([]batch.Event, n)
	for i := range out {
		out[i] = batch.Event{ObjectID: "g1", EventName: name, Time: T0.Add(time.Duration(i) * time.Minute),
			EventPropsJSON: fmt.Sprintf(`{"i":%d}`, i), SessionPropsJSON: "{}"}
	}
	return out
}

func testSaveEvents(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Access("A2"), Deletion("D1"))
	ctx := t.Context()
	must(t, "SaveEvents", s.SaveEvents(ctx, run, []batch.EventBatch{
		{RequestID: "A1", EventName: "Charged", Expected: 3, Events: events("Charged", 3)},
		{RequestID: "A1", EventName: "App Launched", Expected: 1, Events: events("App Launched", 1)},
		{RequestID: "A2", EventName: "Charged", Expected: 2, Events: nil},
	}))
	must(t, "SaveEvents again", s.SaveEvents(ctx, run, []batch.EventBatch{
		{RequestID: "A1", EventName: "Charged", Expected: 3, Events: events("Charged", 2)},
	}))
	got := map[string]map[string]int64{}
	for _, w := range openWork(t, s) {
		got[w.ID] = w.DoneEventNames
	}
	want := map[string]map[string]int64{"A1": {"Charged": 2, "App Launched": 1}, "A2": {"Charged": 0}, "D1": nil}
	for id, names := range want {
		if fmt.Sprint(got[id]) != fmt.Sprint(names) {
			t.Errorf("DoneEventNames of %s = %v, want %v (a name saved again replaces it)", id, got[id], names)
		}
	}
	before := snapshots(t, h, s, "A1", "A2", "D1")
	err := s.SaveEvents(ctx, run, []batch.EventBatch{
		{RequestID: "A2", EventName: "Viewed", Expected: 1, Events: events("Viewed", 1)},
		{RequestID: "D1", EventName: "Viewed", Expected: 1, Events: events("Viewed", 1)},
	})
	refused(t, "SaveEvents with a deletion's batch", err, batch.ErrWrongType, before, snapshots(t, h, s, "A1", "A2", "D1"))
	for _, w := range openWork(t, s) {
		if _, ok := w.DoneEventNames["Viewed"]; ok {
			t.Errorf("a refused SaveEvents saved %s's batch: not atomic", w.ID)
		}
	}
}

func testSaveProfiles(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Deletion("D1"))
	ctx := t.Context()
	p := batch.FoundProfile{MatchedBy: batch.MatchedByEmail, ObjectIDs: []string{"g1"}, ProfileDataJSON: "{}",
		EventSummaryJSON: "{}", PlatformInfoJSON: "[]", RetrievedAt: T0}
	must(t, "SaveProfiles", s.SaveProfiles(ctx, run, "A1", []batch.FoundProfile{p}))
	before := snapshots(t, h, s, "A1", "D1")
	refused(t, "SaveProfiles of a deletion", s.SaveProfiles(ctx, run, "D1", []batch.FoundProfile{p}),
		batch.ErrWrongType, before, snapshots(t, h, s, "A1", "D1"))
	bad := p
	bad.MatchedBy = "guess"
	if err := s.SaveProfiles(ctx, run, "A1", []batch.FoundProfile{bad}); err == nil {
		t.Error("SaveProfiles accepted a profile matched by \"guess\"")
	}
}

func testDeletionFlow(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Deletion("D1"), Deletion("D2"))
	ctx := t.Context()
	plan := batch.DeletionPlan{ObjectIDs: []string{"g1", "g2"}, Identities: []string{"u1"}, Profiles: 2}
	must(t, "PlanDeletion", s.PlanDeletion(ctx, run, "D1", plan))
	must(t, "RecordFailure", s.RecordFailure(ctx, run, "D1", batch.Failure{Class: "server", Message: "HTTP 503"}))

	all := []string{"A1", "D1", "D2"}
	before := snapshots(t, h, s, all...)
	refused(t, "PlanDeletion of an access request", s.PlanDeletion(ctx, run, "A1", plan),
		batch.ErrWrongType, before, snapshots(t, h, s, all...))
	err := s.MarkDeleteSubmitted(ctx, run, []string{"D1", "D2"}, T0, T0.Add(time.Minute))
	if err == nil {
		t.Error("MarkDeleteSubmitted of a deletion without a plan succeeded")
	}
	if after := snapshots(t, h, s, all...); !slices.Equal(before, after) {
		t.Errorf("a refused MarkDeleteSubmitted changed the store: %+v → %+v", before, after)
	}
	refused(t, "MarkDeleteSubmitted of an access request", s.MarkDeleteSubmitted(ctx, run, []string{"A1"}, T0, T0),
		batch.ErrWrongType, before, snapshots(t, h, s, all...))
	refused(t, "RecordCheck before the delete was accepted",
		s.RecordCheck(ctx, run, "D1", batch.Check{At: T0, Status: batch.StatusVerified}),
		batch.ErrTransition, before, snapshots(t, h, s, all...))

	at, next := T0.Add(time.Minute), T0.Add(2*time.Minute)
	must(t, "MarkDeleteSubmitted", s.MarkDeleteSubmitted(ctx, run, []string{"D1"}, at, next))
	w := findWork(t, s, "D1")
	if w.Status != batch.StatusDeleteSubmitted || w.Attempts != 0 || !w.DeleteRequestedAt.Equal(at) ||
		!w.NextCheckAt.Equal(next) || w.Checks != 0 || w.Plan == nil || !slices.Equal(w.Plan.ObjectIDs, plan.ObjectIDs) ||
		!slices.Equal(w.Plan.Identities, plan.Identities) || w.Plan.Profiles != 2 {
		t.Errorf("after MarkDeleteSubmitted: %+v, want delete_submitted with attempts reset, the plan and its times", w)
	}
	c1 := batch.Check{At: T0.Add(3 * time.Minute), Status: batch.StatusDeleteSubmitted, Next: T0.Add(time.Hour), Detail: "still there"}
	must(t, "RecordCheck pending", s.RecordCheck(ctx, run, "D1", c1))
	w = findWork(t, s, "D1")
	if w.Checks != 1 || !w.LastCheckedAt.Equal(c1.At) || !w.NextCheckAt.Equal(c1.Next) || w.Status != batch.StatusDeleteSubmitted {
		t.Errorf("after one check: %+v", w)
	}
	refused(t, "RecordCheck done on a deletion",
		s.RecordCheck(ctx, run, "D1", batch.Check{At: T0, Status: batch.StatusDone}),
		batch.ErrTransition, snapshots(t, h, s, all...), snapshots(t, h, s, all...))
	must(t, "RecordCheck verified", s.RecordCheck(ctx, run, "D1",
		batch.Check{At: T0.Add(2 * time.Hour), Status: batch.StatusVerified, Detail: "gone"}))
	if got, want := h.Get(t, s, "D1"), (Snapshot{Status: batch.StatusVerified, Detail: "gone", Closed: true}); got != want {
		t.Errorf("after verification: %+v, want %+v", got, want)
	}
	before = snapshots(t, h, s, all...)
	refused(t, "RecordCheck of a verified deletion",
		s.RecordCheck(ctx, run, "D1", batch.Check{At: T0, Status: batch.StatusDeleteSubmitted}),
		batch.ErrTransition, before, snapshots(t, h, s, all...))
	refused(t, "RecordCheck of an access request",
		s.RecordCheck(ctx, run, "A1", batch.Check{At: T0, Status: batch.StatusFailed}),
		batch.ErrWrongType, before, snapshots(t, h, s, all...))
}

func findWork(t *testing.T, s batch.Store, id string) batch.Work {
	t.Helper()
	for _, w := range openWork(t, s) {
		if w.ID == id {
			return w
		}
	}
	t.Fatalf("request %s is not open", id)
	return batch.Work{}
}

func testClosedRefuse(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Deletion("D1"))
	ctx := t.Context()
	must(t, "SetStatus A1", s.SetStatus(ctx, run, "A1", batch.StatusNotFound, "", T0))
	must(t, "SetStatus D1", s.SetStatus(ctx, run, "D1", batch.StatusNotFound, "", T0))
	before := snapshots(t, h, s, "A1", "D1")
	p := []batch.FoundProfile{{MatchedBy: batch.MatchedByEmail, ObjectIDs: []string{"g"}, RetrievedAt: T0}}
	for what, err := range map[string]error{
		"SaveProfiles":        s.SaveProfiles(ctx, run, "A1", p),
		"SaveEvents":          s.SaveEvents(ctx, run, []batch.EventBatch{{RequestID: "A1", EventName: "E", Events: events("E", 1)}}),
		"PlanDeletion":        s.PlanDeletion(ctx, run, "D1", batch.DeletionPlan{ObjectIDs: []string{"g"}}),
		"MarkDeleteSubmitted": s.MarkDeleteSubmitted(ctx, run, []string{"D1"}, T0, T0),
	} {
		refused(t, what+" of a closed request", err, batch.ErrTransition, before, snapshots(t, h, s, "A1", "D1"))
	}
}

func testUnknown(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"))
	ctx := context.WithoutCancel(t.Context())
	for what, err := range map[string]error{
		"SetStatus":           s.SetStatus(ctx, run, "NOPE", batch.StatusDone, "", T0),
		"RecordFailure":       s.RecordFailure(ctx, run, "NOPE", batch.Failure{Class: "server", Message: "x"}),
		"SaveProfiles":        s.SaveProfiles(ctx, run, "NOPE", nil),
		"SaveEvents":          s.SaveEvents(ctx, run, []batch.EventBatch{{RequestID: "NOPE", EventName: "E"}}),
		"PlanDeletion":        s.PlanDeletion(ctx, run, "NOPE", batch.DeletionPlan{ObjectIDs: []string{"g"}}),
		"MarkDeleteSubmitted": s.MarkDeleteSubmitted(ctx, run, []string{"NOPE"}, T0, T0),
		"RecordCheck":         s.RecordCheck(ctx, run, "NOPE", batch.Check{At: T0, Status: batch.StatusVerified}),
	} {
		if !errors.Is(err, batch.ErrUnknownRequest) {
			t.Errorf("%s of an unknown request = %v, want batch.ErrUnknownRequest", what, err)
		}
	}
}

// A status that discards (conflict) drops the profiles and events the
// request had exported: they may be someone else's.
func testDiscards(t *testing.T, h Harness) {
	ctx := t.Context()
	for _, info := range batch.Statuses() {
		if batch.CheckMove(batch.Access, batch.StatusPending, info.Status) != nil {
			continue
		}
		t.Run(string(info.Status), func(t *testing.T) {
			s, run := h.New(t, Access("A1"))
			p := batch.FoundProfile{MatchedBy: batch.MatchedByEmail, ObjectIDs: []string{"g1"}, ProfileDataJSON: "{}",
				EventSummaryJSON: "{}", PlatformInfoJSON: "[]", RetrievedAt: T0}
			must(t, "SaveProfiles", s.SaveProfiles(ctx, run, "A1", []batch.FoundProfile{p}))
			must(t, "SaveEvents", s.SaveEvents(ctx, run, []batch.EventBatch{{RequestID: "A1", EventName: "E", Expected: 2, Events: events("E", 2)}}))
			must(t, "SetStatus", s.SetStatus(ctx, run, "A1", info.Status, "", T0))
			got := h.Get(t, s, "A1")
			wantProfiles, wantEvents := 1, 2
			if info.Discards {
				wantProfiles, wantEvents = 0, 0
			}
			if got.Profiles != wantProfiles || got.Events != wantEvents {
				t.Errorf("after moving to %s: %d profile(s), %d event(s) held; want %d, %d", info.Status,
					got.Profiles, got.Events, wantProfiles, wantEvents)
			}
		})
	}
}

// verified takes a deletion through plan, accepted delete and a check that
// found it gone at at.
func verified(t *testing.T, s batch.Store, run, id string, at time.Time) {
	t.Helper()
	ctx := t.Context()
	must(t, "PlanDeletion", s.PlanDeletion(ctx, run, id, batch.DeletionPlan{ObjectIDs: []string{"g-" + id}, Profiles: 1}))
	must(t, "MarkDeleteSubmitted", s.MarkDeleteSubmitted(ctx, run, []string{id}, T0, T0.Add(time.Minute)))
	must(t, "RecordCheck", s.RecordCheck(ctx, run, id, batch.Check{At: at, Status: batch.StatusVerified, Detail: "gone"}))
}

func testResweep(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Deletion("D1"), Deletion("D2"), Deletion("D3"))
	ctx := t.Context()
	verified(t, s, run, "D1", T0.Add(time.Hour))
	verified(t, s, run, "D2", T0.Add(2*time.Hour))
	dueIDs := func(before time.Time) []string {
		t.Helper()
		due, err := s.ResweepDue(ctx, before, 10)
		if err != nil {
			t.Fatalf("ResweepDue: %v", err)
		}
		var out []string
		for _, w := range due {
			if w.Plan == nil || len(w.Plan.ObjectIDs) != 1 {
				t.Errorf("ResweepDue %s without its plan: %+v", w.ID, w.Plan)
			}
			out = append(out, w.ID)
		}
		return out
	}
	if got := dueIDs(T0.Add(90 * time.Minute)); !slices.Equal(got, []string{"D1"}) {
		t.Errorf("due a second sweep at +90m: %v, want [D1] (D2 verified later, D3 never)", got)
	}
	if got := dueIDs(T0.Add(3 * time.Hour)); !slices.Equal(got, []string{"D1", "D2"}) {
		t.Errorf("due at +3h: %v, want [D1 D2], the oldest first", got)
	}
	must(t, "RecordResweep nothing", s.RecordResweep(ctx, run, "D1", batch.Resweep{At: T0.Add(4 * time.Hour)}))
	must(t, "RecordResweep back", s.RecordResweep(ctx, run, "D2", batch.Resweep{At: T0.Add(4 * time.Hour), Back: true, Detail: "back"}))
	if got := dueIDs(T0.Add(5 * time.Hour)); len(got) != 0 {
		t.Errorf("due after both were swept: %v, want none (once each)", got)
	}
	want := []Snapshot{{Status: batch.StatusVerified, Detail: "gone", Closed: true},
		{Status: batch.StatusReappeared, Detail: "back", Closed: true}}
	if got := snapshots(t, h, s, "D1", "D2"); !slices.Equal(got, want) {
		t.Errorf("after the sweeps: %+v, want %+v", got, want)
	}
	before := snapshots(t, h, s, "A1", "D1", "D2", "D3")
	for what, c := range map[string]struct {
		id   string
		want error
	}{
		"RecordResweep of a deletion swept already": {"D1", batch.ErrTransition},
		"RecordResweep of a pending deletion":       {"D3", batch.ErrTransition},
		"RecordResweep of an access request":        {"A1", batch.ErrWrongType},
	} {
		refused(t, what, s.RecordResweep(ctx, run, c.id, batch.Resweep{At: T0, Back: true, Detail: "x"}), c.want,
			before, snapshots(t, h, s, "A1", "D1", "D2", "D3"))
	}
}
