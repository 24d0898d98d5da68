package checkpoint_test

import (
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/batch/storetest"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// ledger is a ledger file with one run holding it.
type ledger struct {
	st    *checkpoint.Store
	path  string
	clk   *clock
	runID string
}

// mustLedger opens a new ledger at day0, begins a run and imports reqs as
// one manifest, a.csv.
func mustLedger(tb testing.TB, reqs ...batch.Request) ledger {
	tb.Helper()
	l := ledger{path: filepath.Join(tb.TempDir(), "ledger.db"), clk: newClock(day0)}
	l.st = mustOpen(tb, l.path, checkpoint.Options{Now: l.clk.Now, StaleLockAfter: time.Minute})
	l.runID = mustBeginRun(tb, l.st)
	if len(reqs) > 0 {
		mustImport(tb, l.st, l.runID, manifestInfo("a.csv", "a"), reqs, nil)
	}
	return l
}

// mustCopy copies the ledger file of l, whose Store is closed, and opens
// the copy; the copy's run holds its lock, as l's did.
func mustCopy(tb testing.TB, l ledger) ledger {
	tb.Helper()
	if _, err := os.Stat(l.path + "-wal"); !errors.Is(err, fs.ErrNotExist) {
		tb.Fatalf("copy of ledger %s: its WAL is still there (Store not closed?): %v", l.path, err)
	}
	b, err := os.ReadFile(l.path)
	if err != nil {
		tb.Fatal(err)
	}
	c := l
	c.path = filepath.Join(tb.TempDir(), "ledger.db")
	if err := os.WriteFile(c.path, b, 0o600); err != nil {
		tb.Fatal(err)
	}
	c.st = mustOpen(tb, c.path, checkpoint.Options{Now: l.clk.Now, StaleLockAfter: time.Minute})
	return c
}

// del is a valid deletion request read at file:row.
func del(id, email, file string, row int) batch.Request {
	r := req(id, email, file, row)
	r.Type = batch.Deletion
	return r
}

// must fails the test when a ledger call it wraps failed.
func must(tb testing.TB, what string, err error) {
	tb.Helper()
	if err != nil {
		tb.Fatalf("%s: %v", what, err)
	}
}

// mustOpenWork returns OpenWork's requests.
func mustOpenWork(tb testing.TB, st *checkpoint.Store) []batch.Work {
	tb.Helper()
	work, _, err := st.OpenWork(tb.Context(), "", batch.WorkCursor{}, 1_000_000)
	if err != nil {
		tb.Fatalf("OpenWork: %v", err)
	}
	return work
}

// workLine renders what OpenWork says of a request on one line.
func workLine(w batch.Work) string {
	plan := "none"
	if w.Plan != nil {
		plan = fmt.Sprintf("%v/%v/%d", w.Plan.ObjectIDs, w.Plan.Identities, w.Plan.Profiles)
	}
	return fmt.Sprintf("%s %s %s %s attempts=%d names=%v plan=%s requested=%s checks=%d last=%s next=%s",
		w.ID, w.Type, w.Email, w.Status, w.Attempts, w.DoneEventNames, plan,
		clockTime(w.DeleteRequestedAt), w.Checks, clockTime(w.LastCheckedAt), clockTime(w.NextCheckAt))
}

// clockTime shows a time as its offset from day0; "-" is the zero time.
func clockTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return "+" + t.Sub(day0).String()
}

// rawRows runs a read-only query on the ledger file outside the Store and
// renders each row on one line, columns separated by " | ".
func rawRows(tb testing.TB, path, query string, args ...any) []string {
	tb.Helper()
	db := openRaw(tb, path)
	defer db.Close()
	return queryLines(tb, db, query, args...)
}

// openRaw opens the ledger file read-only, outside the Store.
func openRaw(tb testing.TB, path string) *sql.DB {
	tb.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(5000)")
	if err != nil {
		tb.Fatal(err)
	}
	return db
}

// queryLines runs query and renders each row as rawRows does.
func queryLines(tb testing.TB, db *sql.DB, query string, args ...any) []string {
	tb.Helper()
	rows, err := db.QueryContext(tb.Context(), query, args...)
	if err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		tb.Fatal(err)
	}
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			tb.Fatalf("%s: %v", query, err)
		}
		cells := make([]string, len(vals))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = fmt.Sprintf("%x", b)
			}
			cells[i] = fmt.Sprint(v)
		}
		out = append(out, strings.Join(cells, " | "))
	}
	if err := rows.Err(); err != nil {
		tb.Fatalf("%s: %v", query, err)
	}
	return out
}

// runStateTables are every table a run's writes change, with their order.
var runStateTables = []string{
	"requests ORDER BY req_id",
	"access_profiles ORDER BY request_id, ordinal",
	"access_event_names ORDER BY request_id, event_name",
	"access_event_parts ORDER BY part_id",
	"access_events ORDER BY part_id, seq",
	"deletions ORDER BY request_id",
}

// dumpRunState renders the run state on disk, to show that a refused write
// changed nothing.
func dumpRunState(tb testing.TB, path string) string {
	tb.Helper()
	db := openRaw(tb, path)
	defer db.Close()
	var b strings.Builder
	for _, t := range runStateTables {
		fmt.Fprintf(&b, "%s:\n", t)
		for _, r := range queryLines(tb, db, "SELECT * FROM "+t) {
			fmt.Fprintf(&b, "  %s\n", r)
		}
	}
	return b.String()
}

// storedEvents lists the exported events of (request, name), numbered in
// time order.
func storedEvents(tb testing.TB, path, requestID, name string) []string {
	tb.Helper()
	return rawRows(tb, path, `SELECT row_number() OVER (ORDER BY event_time, object_id, event_props_json) - 1,
		object_id, identity, event_time, event_props_json
		FROM access_events e JOIN access_event_parts p ON p.part_id = e.part_id
		WHERE e.request_id = ? AND e.event_name = ? AND p.exported ORDER BY 1`, requestID, name)
}

// h is day0 plus n hours.
func h(n int) time.Time { return day0.Add(time.Duration(n) * time.Hour) }

// ev is an event of name at day0+at.
func ev(name, objectID string, at time.Duration, props string) batch.Event {
	return batch.Event{ObjectID: objectID, EventName: name, Time: day0.Add(at),
		EventPropsJSON: props, SessionPropsJSON: "{}"}
}

func TestOpenWorkReturnsOpenRequestsWithTheirProgress(t *testing.T) {
	// Imported out of order: OpenWork sorts by request ID.
	l := mustLedger(t,
		del("D4", "d4@example.com", "a.csv", 2),
		req("A2", "a2@example.com", "a.csv", 3),
		del("D1", "d1@example.com", "a.csv", 4),
		req("A1", "a1@example.com", "a.csv", 5),
		del("D3", "d3@example.com", "a.csv", 6),
		req("A3", "a3@example.com", "a.csv", 7),
		del("D2", "d2@example.com", "a.csv", 8),
		req("A4", "a4@example.com", "a.csv", 9),
		del("D5", "d5@example.com", "a.csv", 10),
		req("A5", "a5@example.com", "a.csv", 11),
		del("D6", "d6@example.com", "a.csv", 12),
	)
	ctx, run := t.Context(), l.runID
	plan := func(ids ...string) batch.DeletionPlan {
		return batch.DeletionPlan{ObjectIDs: ids, Identities: []string{"u-" + ids[0]}, Profiles: len(ids)}
	}

	// A1: two names exported, one of them twice.
	must(t, "SaveEvents", saveEvents(ctx, l.st, run, []storetest.Batch{
		{RequestID: "A1", EventName: "open", Expected: 1, Events: []batch.Event{ev("open", "o1", 0, "{}")}},
		{RequestID: "A1", EventName: "buy", Expected: 1, Events: []batch.Event{ev("buy", "o1", time.Minute, "{}")}},
	}))
	must(t, "SaveEvents", saveEvents(ctx, l.st, run, []storetest.Batch{
		{RequestID: "A1", EventName: "open", Expected: 2, Events: []batch.Event{ev("open", "o1", 0, "{}"), ev("open", "o1", 1, "{}")}},
	}))
	// A2: done; A3: nothing found; A4: given up; A5: one failed attempt.
	must(t, "SaveEvents", saveEvents(ctx, l.st, run, []storetest.Batch{{RequestID: "A2", EventName: "open"}}))
	must(t, "SetStatus", l.st.SetStatus(ctx, run, "A2", batch.StatusDone, "bundle written", h(1)))
	must(t, "SetStatus", l.st.SetStatus(ctx, run, "A3", batch.StatusNotFound, "", h(1)))
	must(t, "RecordFailure", l.st.RecordFailure(ctx, run, "A4", batch.Failure{Class: "invalid", Message: "HTTP 400", GiveUp: true}))
	must(t, "RecordFailure", l.st.RecordFailure(ctx, run, "A5", batch.Failure{Class: "server", Message: "HTTP 503"}))
	// D1: planned; D2: accepted; D3: checked once, still there; D4: verified;
	// D5: reappeared; D6: untouched.
	for _, id := range []string{"D1", "D2", "D3", "D4", "D5"} {
		must(t, "PlanDeletion", l.st.PlanDeletion(ctx, run, id, plan("g-"+id)))
	}
	must(t, "PlanDeletion widened", l.st.PlanDeletion(ctx, run, "D1", plan("g-D1", "g-D1b")))
	must(t, "MarkDeleteSubmitted", l.st.MarkDeleteSubmitted(ctx, run, []string{"D2", "D3", "D4", "D5"}, h(2), h(26)))
	must(t, "RecordCheck", l.st.RecordCheck(ctx, run, "D3", batch.Check{At: h(26), Status: batch.StatusDeleteSubmitted, Next: h(74), Detail: "still there"}))
	must(t, "RecordCheck", l.st.RecordCheck(ctx, run, "D4", batch.Check{At: h(26), Status: batch.StatusVerified, Detail: "gone"}))
	must(t, "RecordCheck", l.st.RecordCheck(ctx, run, "D5", batch.Check{At: h(26), Status: batch.StatusReappeared, Detail: "back"}))

	want := []string{
		"A1 access a1@example.com pending attempts=0 names=map[buy:1 open:2] plan=none requested=- checks=0 last=- next=-",
		"A5 access a5@example.com pending attempts=1 names=map[] plan=none requested=- checks=0 last=- next=-",
		"D1 deletion d1@example.com pending attempts=0 names=map[] plan=[g-D1 g-D1b]/[u-g-D1]/2 requested=- checks=0 last=- next=-",
		"D2 deletion d2@example.com delete_submitted attempts=0 names=map[] plan=[g-D2]/[u-g-D2]/1 requested=+2h0m0s checks=0 last=- next=+26h0m0s",
		"D3 deletion d3@example.com delete_submitted attempts=0 names=map[] plan=[g-D3]/[u-g-D3]/1 requested=+2h0m0s checks=1 last=+26h0m0s next=+74h0m0s",
		"D6 deletion d6@example.com pending attempts=0 names=map[] plan=none requested=- checks=0 last=- next=-",
	}
	var got []string
	for _, w := range mustOpenWork(t, l.st) {
		got = append(got, workLine(w))
	}
	slices.Sort(got) // the order is the conformance suite's business
	if !slices.Equal(got, want) {
		t.Errorf("OpenWork returned\n  %s\nwant\n  %s", strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
	for id, want := range map[string]string{"D3": "still there", "D4": "gone", "D5": "back"} {
		if got := mustRequest(t, l.st, id).Detail; got != want {
			t.Errorf("%s's detail after its check = %q, want %q", id, got, want)
		}
	}
	if got := mustRequest(t, l.st, "D4").CompletedAt; !got.Equal(h(26)) {
		t.Errorf("D4 verified at +26h completed at %s, want +26h0m0s", clockTime(got))
	}
}

func TestExportReplacesANameWhole(t *testing.T) {
	l := mustLedger(t, req("A1", "a1@example.com", "a.csv", 2))
	ctx := t.Context()
	must(t, "SaveEvents", saveEvents(ctx, l.st, l.runID, []storetest.Batch{
		{RequestID: "A1", EventName: "open", Expected: 3, Events: []batch.Event{
			ev("open", "o1", 1*time.Second, "{}"), ev("open", "o2", 2*time.Second, "{}"), ev("open", "o3", 3*time.Second, "{}")}},
		{RequestID: "A1", EventName: "buy", Expected: 1, Events: []batch.Event{ev("buy", "o1", 4*time.Second, "{}")}},
	}))
	// A resumed run exports "open" again and finds fewer events.
	must(t, "SaveEvents", saveEvents(ctx, l.st, l.runID, []storetest.Batch{
		{RequestID: "A1", EventName: "open", Expected: 2, Events: []batch.Event{
			ev("open", "o8", 6*time.Second, "{}"), ev("open", "o9", 5*time.Second, `{"again":true}`)}},
	}))

	for _, c := range []struct {
		name string
		want []string
	}{
		{"open", []string{
			fmt.Sprintf(`0 | o9 |  | %d | {"again":true}`, day0.Add(5*time.Second).UnixMicro()),
			fmt.Sprintf(`1 | o8 |  | %d | {}`, day0.Add(6*time.Second).UnixMicro()),
		}},
		{"buy", []string{fmt.Sprintf(`0 | o1 |  | %d | {}`, day0.Add(4*time.Second).UnixMicro())}},
	} {
		if got := storedEvents(t, l.path, "A1", c.name); !slices.Equal(got, c.want) {
			t.Errorf("events of %q after saving it twice:\n  %s\nwant\n  %s", c.name,
				strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
		}
	}
	if got := rawRows(t, l.path, `SELECT event_name, expected, exported FROM access_event_names
		WHERE request_id = 'A1' ORDER BY event_name`); !slices.Equal(got, []string{"buy | 1 | 1", "open | 2 | 2"}) {
		t.Errorf("exported names after saving open twice = %q, want buy 1/1 and open 2/2", got)
	}
	if got := mustRequest(t, l.st, "A1").LastRunID; got != l.runID {
		t.Errorf("A1's last run after FinishEvents = %q, want %q", got, l.runID)
	}
}

// The reports list a name's events in the canonical order: time, then
// objectId, then the properties, then the rest; whatever order CleverTap
// returned them in, and however they were split into pages.
func TestReportEventsInCanonicalOrder(t *testing.T) {
	canonical := []batch.Event{
		ev("open", "z", 0, `{}`),
		ev("open", "a", time.Second, `{"n":1}`),
		ev("open", "a", time.Second, `{"n":2}`),
		{ObjectID: "b", Identity: "u1", EventName: "open", Time: day0.Add(time.Second), EventPropsJSON: `{}`, SessionPropsJSON: `{}`},
		{ObjectID: "b", Identity: "u2", EventName: "open", Time: day0.Add(time.Second), EventPropsJSON: `{}`, SessionPropsJSON: `{}`},
		ev("open", "a", time.Minute, `{}`),
	}
	var want []string
	for _, e := range canonical {
		want = append(want, fmt.Sprintf("%s | %s | %d | %s", e.ObjectID, e.Identity, e.Time.UnixMicro(), e.EventPropsJSON))
	}
	for _, c := range []struct {
		name  string
		order []int // indexes into canonical, as CleverTap returned them
	}{
		{"canonical", []int{0, 1, 2, 3, 4, 5}},
		{"reversed", []int{5, 4, 3, 2, 1, 0}},
		{"props swapped", []int{0, 2, 1, 3, 4, 5}},
		{"identities swapped", []int{0, 1, 2, 4, 3, 5}},
		{"shuffled", []int{4, 5, 1, 0, 3, 2}},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := mustLedger(t, req("A1", "a1@example.com", "a.csv", 2))
			events := make([]batch.Event, len(c.order))
			for i, j := range c.order {
				events[i] = canonical[j]
			}
			must(t, "SaveEvents", saveEvents(t.Context(), l.st, l.runID, []storetest.Batch{
				{RequestID: "A1", EventName: "open", Expected: int64(len(events)), Events: events}}))
			must(t, "SetStatus", l.st.SetStatus(t.Context(), l.runID, "A1", batch.StatusDone, "", day0))
			var got []string
			must(t, "ReportEvents", l.st.ReportEvents(t.Context(), report.Selection{All: true, Now: day0},
				func(r report.EventRow) error {
					got = append(got, fmt.Sprintf("%s | %s | %d | %s", r.ObjectID, r.Identity, r.EventTime.UnixMicro(), r.EventPropsJSON))
					return nil
				}))
			if !slices.Equal(got, want) {
				t.Errorf("events saved in order %v are reported as\n  %s\nwant\n  %s", c.order,
					strings.Join(got, "\n  "), strings.Join(want, "\n  "))
			}
		})
	}
}

// A refused FinishEvents changes nothing: no name of the call is exported.
func TestFinishEventsIsAtomic(t *testing.T) {
	for _, c := range []struct {
		name    string
		last    batch.EventExport
		wantErr error // besides failing; nil: any error
	}{
		{"a later export of an unknown request", batch.EventExport{RequestID: "NOPE", EventName: "open"}, checkpoint.ErrUnknownRequest},
		{"a later export of a deletion request", batch.EventExport{RequestID: "D1", EventName: "open"}, batch.ErrWrongType},
	} {
		t.Run(c.name, func(t *testing.T) {
			// A1 has "open" exported already; the failing call would replace it.
			l := mustLedger(t, req("A1", "a1@example.com", "a.csv", 2), del("D1", "d1@example.com", "a.csv", 3))
			ctx := t.Context()
			must(t, "SaveEvents", saveEvents(ctx, l.st, l.runID, []storetest.Batch{
				{RequestID: "A1", EventName: "open", Expected: 1, Events: []batch.Event{ev("open", "o1", 0, "{}")}}}))
			part := func(name string, events ...batch.Event) batch.PartID {
				id, err := l.st.BeginEvents(ctx, l.runID, "A1", name)
				must(t, "BeginEvents", err)
				must(t, "AppendEvents", l.st.AppendEvents(ctx, l.runID, []batch.EventPage{{Part: id, Events: events}}))
				return id
			}
			open := part("open", ev("open", "o2", time.Second, "{}"), ev("open", "o3", 2*time.Second, "{}"))
			buy := part("buy", ev("buy", "o1", 3*time.Second, "{}"))
			l.clk.Add(time.Hour)
			before := dumpRunState(t, l.path)

			_, err := l.st.FinishEvents(ctx, l.runID, []batch.EventExport{
				{RequestID: "A1", EventName: "open", Expected: 2, Parts: []batch.EventPart{{ID: open}}},
				{RequestID: "A1", EventName: "buy", Expected: 1, Parts: []batch.EventPart{{ID: buy}}},
				c.last})
			if err == nil || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
				t.Errorf("FinishEvents with %s = %v, want an error (%v)", c.name, err, c.wantErr)
			}
			if after := dumpRunState(t, l.path); after != before {
				t.Errorf("FinishEvents with %s failed but changed the ledger from\n%s\nto\n%s", c.name, before, after)
			}
		})
	}
}

func TestSaveProfilesReplacesTheSet(t *testing.T) {
	l := mustLedger(t, req("A1", "a1@example.com", "a.csv", 2))
	ctx := t.Context()
	profile := func(id string, by batch.MatchedBy) batch.FoundProfile {
		return batch.FoundProfile{MatchedBy: by, ObjectIDs: []string{"g-" + id}, Identity: "u-" + id, Email: "a1@example.com",
			ProfileDataJSON: `{"id":"` + id + `"}`, EventSummaryJSON: "{}", PlatformInfoJSON: "[]", RetrievedAt: day0}
	}
	stored := func() []string {
		return rawRows(t, l.path, `SELECT ordinal, matched_by, object_ids, identity, profile_data_json
			FROM access_profiles WHERE request_id = 'A1' ORDER BY ordinal`)
	}
	for _, c := range []struct {
		name     string
		profiles []batch.FoundProfile
		want     []string
	}{
		{"first", []batch.FoundProfile{profile("p1", batch.MatchedByEmail), profile("p2", batch.MatchedByBoth)}, []string{
			`0 | email | ["g-p1"] | u-p1 | {"id":"p1"}`,
			`1 | both | ["g-p2"] | u-p2 | {"id":"p2"}`,
		}},
		{"fewer", []batch.FoundProfile{profile("p3", batch.MatchedByIdentity)}, []string{
			`0 | identity | ["g-p3"] | u-p3 | {"id":"p3"}`,
		}},
		{"none", nil, nil},
	} {
		must(t, "SaveProfiles "+c.name, l.st.SaveProfiles(ctx, l.runID, "A1", c.profiles))
		if got := stored(); !slices.Equal(got, c.want) {
			t.Errorf("profiles after saving %s set:\n  %s\nwant\n  %s", c.name, strings.Join(got, "\n  "), strings.Join(c.want, "\n  "))
		}
	}
}

// A write the ledger refuses fails and leaves the ledger as it was.
func TestRunStateRefusesWhatCannotBe(t *testing.T) {
	ctx := t.Context()
	plan := batch.DeletionPlan{ObjectIDs: []string{"g1"}, Profiles: 1}
	// Every case works on a copy of one ledger.
	template := func() ledger {
		l := mustLedger(t,
			req("A1", "a1@example.com", "a.csv", 2),
			del("D1", "d1@example.com", "a.csv", 3), // planned
			del("D2", "d2@example.com", "a.csv", 4), // not planned
			del("D3", "d3@example.com", "a.csv", 5), // accepted
			del("D4", "d4@example.com", "a.csv", 6), // verified
		)
		for _, id := range []string{"D1", "D3", "D4"} {
			must(t, "PlanDeletion", l.st.PlanDeletion(ctx, l.runID, id, plan))
		}
		must(t, "MarkDeleteSubmitted", l.st.MarkDeleteSubmitted(ctx, l.runID, []string{"D3", "D4"}, day0, day0.Add(time.Hour)))
		must(t, "RecordCheck", l.st.RecordCheck(ctx, l.runID, "D4", batch.Check{At: day0.Add(time.Hour), Status: batch.StatusVerified}))
		l.clk.Add(time.Hour)
		must(t, "Close", l.st.Close())
		return l
	}()

	check := func(st batch.Status) batch.Check {
		return batch.Check{At: day0.Add(2 * time.Hour), Status: st, Next: day0.Add(3 * time.Hour)}
	}
	profiles := []batch.FoundProfile{{MatchedBy: batch.MatchedByEmail, ObjectIDs: []string{"g1"}, RetrievedAt: day0}}
	for _, c := range []struct {
		name    string
		write   func(l ledger) error
		wantErr error // besides failing; nil: any error
	}{
		{"PlanDeletion of an access request", func(l ledger) error { return l.st.PlanDeletion(ctx, l.runID, "A1", plan) }, nil},
		{"PlanDeletion of an unknown request", func(l ledger) error { return l.st.PlanDeletion(ctx, l.runID, "NOPE", plan) }, checkpoint.ErrUnknownRequest},
		{"MarkDeleteSubmitted of a planned and an unplanned deletion", func(l ledger) error {
			return l.st.MarkDeleteSubmitted(ctx, l.runID, []string{"D1", "D2"}, day0, day0.Add(time.Hour))
		}, nil},
		{"MarkDeleteSubmitted of an access request", func(l ledger) error {
			return l.st.MarkDeleteSubmitted(ctx, l.runID, []string{"D1", "A1"}, day0, day0.Add(time.Hour))
		}, nil},
		{"MarkDeleteSubmitted of an unknown request", func(l ledger) error {
			return l.st.MarkDeleteSubmitted(ctx, l.runID, []string{"D1", "NOPE"}, day0, day0.Add(time.Hour))
		}, checkpoint.ErrUnknownRequest},
		{"RecordCheck done on a deletion", func(l ledger) error {
			return l.st.RecordCheck(ctx, l.runID, "D3", check(batch.StatusDone))
		}, nil},
		{"RecordCheck of an unknown status", func(l ledger) error { return l.st.RecordCheck(ctx, l.runID, "D3", check("gone")) }, nil},
		{"RecordCheck on an access request", func(l ledger) error {
			return l.st.RecordCheck(ctx, l.runID, "A1", check(batch.StatusFailed))
		}, nil},
		{"RecordCheck of a deletion not planned", func(l ledger) error {
			return l.st.RecordCheck(ctx, l.runID, "D2", check(batch.StatusVerified))
		}, nil},
		{"RecordCheck of a deletion not accepted", func(l ledger) error {
			return l.st.RecordCheck(ctx, l.runID, "D1", check(batch.StatusVerified))
		}, nil},
		{"RecordCheck of a verified deletion", func(l ledger) error {
			return l.st.RecordCheck(ctx, l.runID, "D4", check(batch.StatusDeleteSubmitted))
		}, nil},
		{"RecordCheck of an unknown request", func(l ledger) error {
			return l.st.RecordCheck(ctx, l.runID, "NOPE", check(batch.StatusVerified))
		}, checkpoint.ErrUnknownRequest},
		{"SaveProfiles of a deletion request", func(l ledger) error { return l.st.SaveProfiles(ctx, l.runID, "D1", profiles) }, nil},
		{"SaveProfiles of an unknown request", func(l ledger) error { return l.st.SaveProfiles(ctx, l.runID, "NOPE", profiles) }, checkpoint.ErrUnknownRequest},
		{"SaveProfiles matched by nothing", func(l ledger) error {
			return l.st.SaveProfiles(ctx, l.runID, "A1", []batch.FoundProfile{{MatchedBy: "guess", RetrievedAt: day0}})
		}, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			l := mustCopy(t, template)
			before := dumpRunState(t, l.path)
			err := c.write(l)
			if err == nil || (c.wantErr != nil && !errors.Is(err, c.wantErr)) {
				t.Errorf("%s = %v, want an error (%v)", c.name, err, c.wantErr)
			}
			if after := dumpRunState(t, l.path); after != before {
				t.Errorf("%s failed but changed the ledger from\n%s\nto\n%s", c.name, before, after)
			}
		})
	}
}

// A run whose lock was taken over, or that ended, cannot write run state.
func TestRunStateWritesNeedTheLock(t *testing.T) {
	for _, lose := range []struct {
		name string
		lose func(t *testing.T, l ledger)
	}{
		{"taken over after a stale heartbeat", func(t *testing.T, l ledger) {
			other := mustOpen(t, l.path, checkpoint.Options{Now: l.clk.Now, StaleLockAfter: time.Minute})
			l.clk.Add(61 * time.Second)
			mustBeginRun(t, other)
		}},
		{"ended", func(t *testing.T, l ledger) { must(t, "EndRun", l.st.EndRun(t.Context(), l.runID, "ok")) }},
	} {
		t.Run(lose.name, func(t *testing.T) {
			l := mustLedger(t, req("A1", "a1@example.com", "a.csv", 2),
				del("D1", "d1@example.com", "a.csv", 3), del("D2", "d2@example.com", "a.csv", 4))
			ctx, run := t.Context(), l.runID
			plan := batch.DeletionPlan{ObjectIDs: []string{"g1"}, Profiles: 1}
			must(t, "PlanDeletion", l.st.PlanDeletion(ctx, run, "D1", plan))
			must(t, "PlanDeletion", l.st.PlanDeletion(ctx, run, "D2", plan))
			must(t, "MarkDeleteSubmitted", l.st.MarkDeleteSubmitted(ctx, run, []string{"D2"}, day0, day0.Add(time.Hour)))
			lose.lose(t, l)
			before := dumpRunState(t, l.path)

			for _, w := range []struct {
				name  string
				write func() error
			}{
				{"SaveProfiles", func() error {
					return l.st.SaveProfiles(ctx, run, "A1", []batch.FoundProfile{
						{MatchedBy: batch.MatchedByEmail, ObjectIDs: []string{"g1"}, RetrievedAt: day0}})
				}},
				{"BeginEvents", func() error {
					_, err := l.st.BeginEvents(ctx, run, "A1", "open")
					return err
				}},
				{"AppendEvents", func() error {
					return l.st.AppendEvents(ctx, run, []batch.EventPage{{Part: 1, Events: []batch.Event{ev("open", "g1", 0, "{}")}}})
				}},
				{"FinishEvents", func() error {
					_, err := l.st.FinishEvents(ctx, run, []batch.EventExport{{RequestID: "A1", EventName: "open"}})
					return err
				}},
				{"DropEvents", func() error { return l.st.DropEvents(ctx, run, []batch.PartID{1}) }},
				{"SetStatus", func() error { return l.st.SetStatus(ctx, run, "A1", batch.StatusDone, "", day0) }},
				{"RecordFailure", func() error {
					return l.st.RecordFailure(ctx, run, "A1", batch.Failure{Class: "server", Message: "HTTP 503"})
				}},
				{"PlanDeletion", func() error { return l.st.PlanDeletion(ctx, run, "D1", plan) }},
				{"MarkDeleteSubmitted", func() error {
					return l.st.MarkDeleteSubmitted(ctx, run, []string{"D1"}, day0, day0.Add(time.Hour))
				}},
				{"RecordCheck", func() error {
					return l.st.RecordCheck(ctx, run, "D2", batch.Check{At: day0.Add(time.Hour), Status: batch.StatusVerified})
				}},
			} {
				if err := w.write(); !errors.Is(err, checkpoint.ErrLockLost) {
					t.Errorf("%s by a run whose lock was %s = %v, want ErrLockLost", w.name, lose.name, err)
				}
			}
			if after := dumpRunState(t, l.path); after != before {
				t.Errorf("writes by a run whose lock was %s changed the ledger from\n%s\nto\n%s", lose.name, before, after)
			}
		})
	}
}

// BenchmarkExportEvents exports 100,000 events per call: 1,000 event names
// of 100 events each, spread over 10 access requests, each name in a part
// of its own, the pages written in one AppendEvents and the names exported
// in one FinishEvents. Each call after the first replaces what the
// previous one exported, as a resumed run does. It reports events/s.
func BenchmarkExportEvents(b *testing.B) {
	const requests, namesPerRequest, eventsPerName = 10, 100, 100
	var reqs []batch.Request
	for i := range requests {
		reqs = append(reqs, req(fmt.Sprintf("A%02d", i), fmt.Sprintf("a%d@example.com", i), "a.csv", i+2))
	}
	l := mustLedger(b, reqs...)
	type name struct {
		requestID, name string
		events          []batch.Event
	}
	var names []name
	for _, r := range reqs {
		for n := range namesPerRequest {
			nm := fmt.Sprintf("event-%03d", n)
			events := make([]batch.Event, eventsPerName)
			for e := range events {
				// Newest first, as CleverTap tends to return them.
				events[e] = batch.Event{ObjectID: "g-" + r.ID, Identity: "u-" + r.ID, Email: r.Email, EventName: nm,
					Time:           day0.Add(time.Duration(eventsPerName-e) * time.Minute),
					EventPropsJSON: fmt.Sprintf(`{"n":%d,"screen":"home"}`, e), SessionPropsJSON: `{"sid":42}`}
			}
			names = append(names, name{r.ID, nm, events})
		}
	}
	const perCall = requests * namesPerRequest * eventsPerName
	ctx := b.Context()
	for b.Loop() {
		pages := make([]batch.EventPage, len(names))
		exports := make([]batch.EventExport, len(names))
		for i, n := range names {
			id, err := l.st.BeginEvents(ctx, l.runID, n.requestID, n.name)
			if err != nil {
				b.Fatal(err)
			}
			pages[i] = batch.EventPage{Part: id, Events: n.events}
			exports[i] = batch.EventExport{RequestID: n.requestID, EventName: n.name, Expected: eventsPerName,
				Parts: []batch.EventPart{{ID: id}}}
		}
		if err := l.st.AppendEvents(ctx, l.runID, pages); err != nil {
			b.Fatal(err)
		}
		if _, err := l.st.FinishEvents(ctx, l.runID, exports); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(perCall)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkSetStatus measures one small transaction per call, as a run
// commits one per request step: with synchronous=FULL each commit waits
// for the disk. It reports commits/s.
func BenchmarkSetStatus(b *testing.B) {
	const requests = 2000
	var reqs []batch.Request
	for i := range requests {
		reqs = append(reqs, req(fmt.Sprintf("A%05d", i), fmt.Sprintf("a%d@example.com", i), "a.csv", i+2))
	}
	for b.Loop() {
		b.StopTimer()
		l := mustLedger(b, reqs...)
		b.StartTimer()
		for _, r := range reqs {
			if err := l.st.SetStatus(b.Context(), l.runID, r.ID, batch.StatusNotFound, "", day0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(requests)*float64(b.N)/b.Elapsed().Seconds(), "commits/s")
}
