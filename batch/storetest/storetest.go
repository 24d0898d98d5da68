// Package storetest is the conformance suite of batch.Store, in the manner
// of go-cloud's drivertest: every implementation (the SQLite ledger in
// checkpoint, the in-memory batchtest.Store the engine tests use) runs the
// same tests, so a fake cannot drift from the real ledger.
//
// The suite checks the rules the engine relies on: OpenWork's order and
// contents, the lifecycle table's moves (batch.CheckMove), closed requests
// refusing writes, errors matching batch.ErrUnknownRequest,
// batch.ErrWrongType and batch.ErrTransition, and that a refused write
// changes nothing; and the export of event names in parts (BeginEvents,
// AppendEvents, FinishEvents, DropEvents): a name is invisible until it is
// finished, is exported whole or not at all, and an export a killed run
// left is removed, never duplicated, when the name is exported again.
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
	// NextRun ends run as a killed run would have and starts another on
	// s, whose id it returns.
	NextRun func(t *testing.T, s batch.Store, run string) string
}

// Snapshot is what Harness.Get reads back of one request.
type Snapshot struct {
	Status   batch.Status
	Detail   string
	Attempts int
	Closed   bool // has a completion time
	Profiles int  // access profiles held
	Events   int  // exported events held, all names
	Held     int  // events held in parts, exported or pending
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
		{"ExportEvents", testExportEvents},
		{"EventsInvisibleUntilFinished", testEventsInvisible},
		{"KilledExportIsReplaced", testKilledExport},
		{"DropEvents", testDropEvents},
		{"PartsReplaceRanges", testReplaceRanges},
		{"RefusedEventWrites", testRefusedEventWrites},
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

// Batch is the complete export of one event name of a request.
type Batch struct {
	RequestID, EventName string
	Expected             int64
	Events               []batch.Event
}

// Save writes each batch into a part of its own, a page at a time, and
// exports them all in one FinishEvents, returning the counts it
// reports. On an error it drops the parts it began.
func Save(ctx context.Context, s batch.Store, runID string, batches ...Batch) ([]int64, error) {
	const pageSize = 2
	var began []batch.PartID
	exports := make([]batch.EventExport, len(batches))
	for i, b := range batches {
		exports[i] = batch.EventExport{RequestID: b.RequestID, EventName: b.EventName, Expected: b.Expected}
		if len(b.Events) == 0 {
			continue
		}
		id, err := s.BeginEvents(ctx, runID, b.RequestID, b.EventName)
		if err != nil {
			_ = s.DropEvents(ctx, runID, began)
			return nil, err
		}
		began = append(began, id)
		exports[i].Parts = []batch.EventPart{{ID: id}}
		for page := range slices.Chunk(b.Events, pageSize) {
			if err := s.AppendEvents(ctx, runID, []batch.EventPage{{Part: id, Events: page}}); err != nil {
				_ = s.DropEvents(ctx, runID, began)
				return nil, err
			}
		}
	}
	counts, err := s.FinishEvents(ctx, runID, exports)
	if err != nil {
		_ = s.DropEvents(ctx, runID, began)
		return nil, err
	}
	return counts, nil
}

func doneNames(t *testing.T, s batch.Store) map[string]map[string]int64 {
	t.Helper()
	got := map[string]map[string]int64{}
	for _, w := range openWork(t, s) {
		got[w.ID] = w.DoneEventNames
	}
	return got
}

func testExportEvents(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Access("A2"), Deletion("D1"))
	ctx := t.Context()
	counts, err := Save(ctx, s, run,
		Batch{RequestID: "A1", EventName: "Charged", Expected: 3, Events: events("Charged", 3)},
		Batch{RequestID: "A1", EventName: "App Launched", Expected: 1, Events: events("App Launched", 1)},
		Batch{RequestID: "A2", EventName: "Charged", Expected: 2, Events: nil},
	)
	must(t, "Save", err)
	if !slices.Equal(counts, []int64{3, 1, 0}) {
		t.Errorf("FinishEvents counts = %v, want [3 1 0]", counts)
	}
	_, err = Save(ctx, s, run, Batch{RequestID: "A1", EventName: "Charged", Expected: 3, Events: events("Charged", 2)})
	must(t, "Save again", err)
	got := doneNames(t, s)
	want := map[string]map[string]int64{"A1": {"Charged": 2, "App Launched": 1}, "A2": {"Charged": 0}, "D1": nil}
	for id, names := range want {
		if fmt.Sprint(got[id]) != fmt.Sprint(names) {
			t.Errorf("DoneEventNames of %s = %v, want %v (a name saved again replaces it)", id, got[id], names)
		}
	}
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusPending, Events: 3, Held: 3}); got != want {
		t.Errorf("A1 after exporting Charged twice: %+v, want %+v", got, want)
	}
}

// testEventsInvisible: events appended to a part are held but not
// exported, and the name is not done, until FinishEvents; a request that
// closes loses its pending parts.
func testEventsInvisible(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"))
	ctx := t.Context()
	id, err := s.BeginEvents(ctx, run, "A1", "E")
	must(t, "BeginEvents", err)
	must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{{Part: id, Events: events("E", 2)}}))
	must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{{Part: id, Events: events("E", 3)}}))
	if got := doneNames(t, s)["A1"]; len(got) != 0 {
		t.Errorf("DoneEventNames before FinishEvents = %v, want none", got)
	}
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusPending, Held: 5}); got != want {
		t.Errorf("before FinishEvents: %+v, want %+v (held, not exported)", got, want)
	}
	counts, err := s.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "A1", EventName: "E", Expected: 5,
		Parts: []batch.EventPart{{ID: id}}}})
	must(t, "FinishEvents", err)
	if !slices.Equal(counts, []int64{5}) {
		t.Errorf("FinishEvents counts = %v, want [5]", counts)
	}
	if got := doneNames(t, s)["A1"]; fmt.Sprint(got) != "map[E:5]" {
		t.Errorf("DoneEventNames after FinishEvents = %v, want map[E:5]", got)
	}
	err = s.AppendEvents(ctx, run, []batch.EventPage{{Part: id, Events: events("E", 1)}})
	if !errors.Is(err, batch.ErrUnknownPart) {
		t.Errorf("AppendEvents to an exported part = %v, want batch.ErrUnknownPart", err)
	}
	// A pending part of another name goes when the request closes.
	other, err := s.BeginEvents(ctx, run, "A1", "F")
	must(t, "BeginEvents", err)
	must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{{Part: other, Events: events("F", 2)}}))
	must(t, "SetStatus done", s.SetStatus(ctx, run, "A1", batch.StatusDone, "", T0))
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusDone, Closed: true, Events: 5, Held: 5}); got != want {
		t.Errorf("after closing with a pending part: %+v, want %+v", got, want)
	}
}

// testKilledExport: a run killed mid-export leaves a pending part, which
// no other run may write to or export, and which goes when the name is
// exported again: the events are never duplicated.
func testKilledExport(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"))
	ctx := t.Context()
	_, err := Save(ctx, s, run, Batch{RequestID: "A1", EventName: "E", Expected: 3, Events: events("E", 3)})
	must(t, "Save", err)
	killed, err := s.BeginEvents(ctx, run, "A1", "E")
	must(t, "BeginEvents", err)
	must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{{Part: killed, Events: events("E", 4)}}))
	lost, err := s.BeginEvents(ctx, run, "A1", "F")
	must(t, "BeginEvents", err)
	must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{{Part: lost, Events: events("F", 2)}}))

	next := h.NextRun(t, s, run)
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusPending, Events: 3, Held: 9}); got != want {
		t.Errorf("after the kill: %+v, want %+v (the pending parts invisible)", got, want)
	}
	before := snapshots(t, h, s, "A1")
	err = s.AppendEvents(ctx, next, []batch.EventPage{{Part: killed, Events: events("E", 1)}})
	refused(t, "AppendEvents to a killed run's part", err, batch.ErrUnknownPart, before, snapshots(t, h, s, "A1"))
	_, err = s.FinishEvents(ctx, next, []batch.EventExport{{RequestID: "A1", EventName: "E", Expected: 4,
		Parts: []batch.EventPart{{ID: killed}}}})
	refused(t, "FinishEvents with a killed run's part", err, batch.ErrUnknownPart, before, snapshots(t, h, s, "A1"))

	// Exporting E again removes the killed part; exporting F with no
	// events removes F's.
	counts, err := Save(ctx, s, next, Batch{RequestID: "A1", EventName: "E", Expected: 4, Events: events("E", 4)},
		Batch{RequestID: "A1", EventName: "F", Expected: 0})
	must(t, "Save", err)
	if !slices.Equal(counts, []int64{4, 0}) {
		t.Errorf("FinishEvents counts = %v, want [4 0]", counts)
	}
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusPending, Events: 4, Held: 4}); got != want {
		t.Errorf("after exporting E and F again: %+v, want %+v (nothing duplicated, nothing left)", got, want)
	}
	if got := doneNames(t, s)["A1"]; fmt.Sprint(got) != "map[E:4 F:0]" {
		t.Errorf("DoneEventNames = %v, want map[E:4 F:0]", got)
	}

	// BeginEvents alone removes a killed run's pending part of the name.
	killed, err = s.BeginEvents(ctx, next, "A1", "G")
	must(t, "BeginEvents", err)
	must(t, "AppendEvents", s.AppendEvents(ctx, next, []batch.EventPage{{Part: killed, Events: events("G", 2)}}))
	third := h.NextRun(t, s, next)
	_, err = s.BeginEvents(ctx, third, "A1", "G")
	must(t, "BeginEvents", err)
	if got := h.Get(t, s, "A1").Held; got != 4 {
		t.Errorf("after beginning G again: %d events held, want 4 (the killed part of G gone)", got)
	}
}

// testDropEvents: DropEvents removes this run's pending parts and leaves
// exported parts, other runs' parts and unknown ids alone.
func testDropEvents(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"))
	ctx := t.Context()
	exported, err := s.BeginEvents(ctx, run, "A1", "E")
	must(t, "BeginEvents", err)
	must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{{Part: exported, Events: events("E", 1)}}))
	_, err = s.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "A1", EventName: "E", Expected: 1,
		Parts: []batch.EventPart{{ID: exported}}}})
	must(t, "FinishEvents", err)
	a, err := s.BeginEvents(ctx, run, "A1", "F")
	must(t, "BeginEvents", err)
	b, err := s.BeginEvents(ctx, run, "A1", "F")
	must(t, "BeginEvents", err)
	must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{
		{Part: a, Events: events("F", 2)}, {Part: b, Events: events("F", 3)}}))
	must(t, "DropEvents", s.DropEvents(ctx, run, []batch.PartID{a, exported, 1 << 40}))
	if got, want := h.Get(t, s, "A1"), (Snapshot{Status: batch.StatusPending, Events: 1, Held: 4}); got != want {
		t.Errorf("after dropping one pending part: %+v, want %+v", got, want)
	}
	_, err = s.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "A1", EventName: "F", Parts: []batch.EventPart{{ID: a}}}})
	if !errors.Is(err, batch.ErrUnknownPart) {
		t.Errorf("FinishEvents with a dropped part = %v, want batch.ErrUnknownPart", err)
	}
	next := h.NextRun(t, s, run)
	must(t, "DropEvents of another run's part", s.DropEvents(ctx, next, []batch.PartID{b}))
	if got := h.Get(t, s, "A1").Held; got != 4 {
		t.Errorf("after another run dropped the part: %d events held, want 4", got)
	}
}

// testReplaceRanges: a later part replaces the earlier parts' events in
// its range; a part the name is not exported with any more goes.
func testReplaceRanges(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"))
	ctx := t.Context()
	part := func(evs []batch.Event) batch.PartID {
		t.Helper()
		id, err := s.BeginEvents(ctx, run, "A1", "E")
		must(t, "BeginEvents", err)
		must(t, "AppendEvents", s.AppendEvents(ctx, run, []batch.EventPage{{Part: id, Events: evs}}))
		return id
	}
	finish := func(want int64, parts ...batch.EventPart) {
		t.Helper()
		counts, err := s.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "A1", EventName: "E", Expected: 9, Parts: parts}})
		must(t, "FinishEvents", err)
		if !slices.Equal(counts, []int64{want}) {
			t.Errorf("FinishEvents counts = %v, want [%d]", counts, want)
		}
		if got := h.Get(t, s, "A1"); got.Events != int(want) || got.Held != int(want) {
			t.Errorf("after FinishEvents: %+v, want %d events exported and held", got, want)
		}
	}
	minute := func(n int) time.Time { return T0.Add(time.Duration(n) * time.Minute) }
	a := part(events("E", 6))     // minutes 0 to 5
	b := part(events("E", 4)[3:]) // minute 3
	// b replaces minutes 2 and 3 of a: 6 - 2 + 1.
	finish(5, batch.EventPart{ID: a}, batch.EventPart{ID: b, From: minute(2), To: minute(4)})
	// A part with no events replaces minute 0; a From not before To
	// replaces nothing.
	finish(4, batch.EventPart{ID: a}, batch.EventPart{ID: b, From: minute(2), To: minute(4)},
		batch.EventPart{From: minute(0), To: minute(1)}, batch.EventPart{From: minute(5), To: minute(5)})
	// Exported with b alone, a goes.
	finish(1, batch.EventPart{ID: b})
}

// testRefusedEventWrites: refused event writes change nothing.
func testRefusedEventWrites(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"), Access("A2"), Deletion("D1"))
	ctx := t.Context()
	_, err := Save(ctx, s, run, Batch{RequestID: "A1", EventName: "E", Expected: 1, Events: events("E", 1)})
	must(t, "Save", err)
	e2, err := s.BeginEvents(ctx, run, "A1", "E")
	must(t, "BeginEvents", err)
	f2, err := s.BeginEvents(ctx, run, "A2", "F")
	must(t, "BeginEvents", err)
	all := []string{"A1", "A2", "D1"}
	before := snapshots(t, h, s, all...)

	_, err = s.BeginEvents(ctx, run, "D1", "E")
	refused(t, "BeginEvents of a deletion", err, batch.ErrWrongType, before, snapshots(t, h, s, all...))
	if _, err := s.BeginEvents(ctx, run, "A1", ""); err == nil {
		t.Error("BeginEvents of an empty event name succeeded")
	}
	err = s.AppendEvents(ctx, run, []batch.EventPage{{Part: e2, Events: events("E", 2)}, {Part: f2, Events: events("E", 1)}})
	if err == nil {
		t.Error("AppendEvents of an event of E into a part of F succeeded")
	}
	if after := snapshots(t, h, s, all...); !slices.Equal(before, after) {
		t.Errorf("a refused AppendEvents changed the store: %+v → %+v", before, after)
	}
	err = s.AppendEvents(ctx, run, []batch.EventPage{{Part: e2, Events: events("E", 2)}, {Part: 1 << 40, Events: events("E", 1)}})
	refused(t, "AppendEvents to an unknown part", err, batch.ErrUnknownPart, before, snapshots(t, h, s, all...))
	for what, c := range map[string]struct {
		exports []batch.EventExport
		want    error
	}{
		"a later export of a deletion": {[]batch.EventExport{
			{RequestID: "A1", EventName: "E", Parts: []batch.EventPart{{ID: e2}}},
			{RequestID: "D1", EventName: "E"}}, batch.ErrWrongType},
		"a part of another request": {[]batch.EventExport{
			{RequestID: "A1", EventName: "E", Parts: []batch.EventPart{{ID: e2}}},
			{RequestID: "A1", EventName: "F", Parts: []batch.EventPart{{ID: f2}}}}, batch.ErrUnknownPart},
		"a part of another name": {[]batch.EventExport{
			{RequestID: "A2", EventName: "G", Parts: []batch.EventPart{{ID: f2}}}}, batch.ErrUnknownPart},
		"an unknown part": {[]batch.EventExport{
			{RequestID: "A1", EventName: "E", Parts: []batch.EventPart{{ID: 1 << 40}}}}, batch.ErrUnknownPart},
	} {
		_, err := s.FinishEvents(ctx, run, c.exports)
		refused(t, "FinishEvents with "+what, err, c.want, before, snapshots(t, h, s, all...))
		if got := doneNames(t, s)["A2"]; len(got) != 0 {
			t.Errorf("a refused FinishEvents with %s exported %v", what, got)
		}
	}
	_, err = s.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "A1", EventName: "E"}, {RequestID: "A1", EventName: "E"}})
	if err == nil {
		t.Error("FinishEvents of one name twice in one call succeeded")
	}
	if after := snapshots(t, h, s, all...); !slices.Equal(before, after) {
		t.Errorf("a refused FinishEvents changed the store: %+v → %+v", before, after)
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
		"BeginEvents":         beginErr(s.BeginEvents(ctx, run, "A1", "E")),
		"FinishEvents":        finishErr(s.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "A1", EventName: "E"}})),
		"PlanDeletion":        s.PlanDeletion(ctx, run, "D1", batch.DeletionPlan{ObjectIDs: []string{"g"}}),
		"MarkDeleteSubmitted": s.MarkDeleteSubmitted(ctx, run, []string{"D1"}, T0, T0),
	} {
		refused(t, what+" of a closed request", err, batch.ErrTransition, before, snapshots(t, h, s, "A1", "D1"))
	}
}

func beginErr(_ batch.PartID, err error) error { return err }
func finishErr(_ []int64, err error) error     { return err }

func testUnknown(t *testing.T, h Harness) {
	s, run := h.New(t, Access("A1"))
	ctx := context.WithoutCancel(t.Context())
	for what, err := range map[string]error{
		"SetStatus":           s.SetStatus(ctx, run, "NOPE", batch.StatusDone, "", T0),
		"RecordFailure":       s.RecordFailure(ctx, run, "NOPE", batch.Failure{Class: "server", Message: "x"}),
		"SaveProfiles":        s.SaveProfiles(ctx, run, "NOPE", nil),
		"BeginEvents":         beginErr(s.BeginEvents(ctx, run, "NOPE", "E")),
		"FinishEvents":        finishErr(s.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "NOPE", EventName: "E"}})),
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
			_, err := Save(ctx, s, run, Batch{RequestID: "A1", EventName: "E", Expected: 2, Events: events("E", 2)})
			must(t, "Save", err)
			must(t, "SetStatus", s.SetStatus(ctx, run, "A1", info.Status, "", T0))
			got := h.Get(t, s, "A1")
			wantProfiles, wantEvents := 1, 2
			if info.Discards {
				wantProfiles, wantEvents = 0, 0
			}
			if got.Profiles != wantProfiles || got.Events != wantEvents || got.Held != wantEvents {
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
