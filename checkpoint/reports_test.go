package checkpoint_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/batch/storetest"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// reportLedger is a ledger after two runs. Run 1 imported b.csv (X1, X2,
// X3) and a.csv (A1-A3, D1-D3, and X3 again), each with a reject. Run 2
// attached a.csv without reading it and:
//
//	A1  exported 2 profiles and 4 events; done
//	A2  saved a profile and an event name, then failed twice; pending
//	A3  untouched (in the report as a row of a.csv)
//	D1  planned, accepted, verified
//	D2  planned, accepted
//	D3  failed once; pending, no plan
//	X1  untouched, only in b.csv: not in run 2's report
//	X2  not found (in the report because run 2 changed it)
//	X3  untouched (in the report as a repeated row of a.csv)
type reportLedger struct {
	ledger
	run1 string
}

func mustReportLedger(tb testing.TB) reportLedger {
	tb.Helper()
	l := mustLedger(tb)
	ctx, run1 := tb.Context(), l.runID
	x3 := req("X3", "x3@example.com", "b.csv", 4)
	mustImport(tb, l.st, run1, manifestInfo("b.csv", "b"),
		[]batch.Request{req("X1", "x1@example.com", "b.csv", 2), req("X2", "x2@example.com", "b.csv", 3), x3},
		[]batch.Reject{{SourceFile: "b.csv", SourceRow: 5, Column: "email", Reason: "not an email address"}})
	x3.Source = batch.SourceRef{File: "a.csv", Row: 9}
	a := manifestInfo("a.csv", "a")
	mustImport(tb, l.st, run1, a, []batch.Request{
		// Out of ID order: the reports sort.
		del("D3", "d3@example.com", "a.csv", 2), req("A2", "a2@example.com", "a.csv", 3),
		del("D1", "d1@example.com", "a.csv", 4), req("A1", "a1@example.com", "a.csv", 5),
		req("A3", "a3@example.com", "a.csv", 6), del("D2", "d2@example.com", "a.csv", 7), x3,
	}, []batch.Reject{{SourceFile: "a.csv", SourceRow: 8, RequestID: "A9", Column: "request_type", Reason: "unknown request type \"erase\""}})
	must(tb, "EndRun", l.st.EndRun(ctx, run1, "ok"))

	l.runID = mustBeginRun(tb, l.st)
	ctx, run := tb.Context(), l.runID
	must(tb, "AttachManifest", l.st.AttachManifest(ctx, run, a.SHA256))
	profile := func(id string, by batch.MatchedBy) batch.FoundProfile {
		return batch.FoundProfile{MatchedBy: by, ObjectIDs: []string{"g-" + id, "h-" + id}, Identity: "u-" + id,
			Email: id + "@example.com", ProfileDataJSON: `{"id":"` + id + `"}`, EventSummaryJSON: "{}",
			PlatformInfoJSON: "[]", RetrievedAt: h(1)}
	}
	sec := func(n int) time.Duration { return time.Duration(n) * time.Second }
	must(tb, "SaveProfiles", l.st.SaveProfiles(ctx, run, "A1", []batch.FoundProfile{
		profile("p2", batch.MatchedByEmail), profile("p1", batch.MatchedByBoth)}))
	must(tb, "SaveEvents", saveEvents(ctx, l.st, run, []storetest.Batch{
		{RequestID: "A1", EventName: "open", Expected: 2, Events: []batch.Event{ev("open", "g-p1", sec(3), "{}"), ev("open", "g-p1", sec(1), "{}")}},
		{RequestID: "A1", EventName: "buy", Expected: 2, Events: []batch.Event{ev("buy", "g-p1", sec(3), `{"sku":1}`), ev("buy", "g-p1", sec(2), "{}")}},
	}))
	must(tb, "SetStatus", l.st.SetStatus(ctx, run, "A1", batch.StatusDone, "bundle written", h(2)))
	must(tb, "SaveProfiles", l.st.SaveProfiles(ctx, run, "A2", []batch.FoundProfile{profile("p3", batch.MatchedByEmail)}))
	must(tb, "SaveEvents", saveEvents(ctx, l.st, run, []storetest.Batch{
		{RequestID: "A2", EventName: "open", Expected: 1, Events: []batch.Event{ev("open", "g-p3", 0, "{}")}}}))
	for range 2 {
		must(tb, "RecordFailure", l.st.RecordFailure(ctx, run, "A2", batch.Failure{Class: "server", Message: "HTTP 503"}))
	}
	for _, id := range []string{"D1", "D2"} {
		must(tb, "PlanDeletion", l.st.PlanDeletion(ctx, run, id, batch.DeletionPlan{
			ObjectIDs: []string{"g-" + id, "h-" + id}, Identities: []string{"u-" + id}, Profiles: 2}))
	}
	must(tb, "MarkDeleteSubmitted", l.st.MarkDeleteSubmitted(ctx, run, []string{"D1", "D2"}, h(3), h(27)))
	must(tb, "RecordCheck", l.st.RecordCheck(ctx, run, "D1", batch.Check{At: h(27), Status: batch.StatusVerified, Detail: "no profile left"}))
	must(tb, "RecordFailure", l.st.RecordFailure(ctx, run, "D3", batch.Failure{Class: "rate_limited", Message: "HTTP 429"}))
	must(tb, "SetStatus", l.st.SetStatus(ctx, run, "X2", batch.StatusNotFound, "no CleverTap profile matched", h(4)))
	return reportLedger{ledger: l, run1: run1}
}

// optTime shows an optional report time as its offset from day0.
func optTime(t *time.Time) string {
	if t == nil {
		return "nil"
	}
	return clockTime(*t)
}

func requestLine(r report.RequestRow) string {
	return fmt.Sprintf("%s %s %s %s %q profiles=%d events=%d submitted=%s due=%s completed=%s late=%v days=%d", r.RequestID,
		r.RequestType, r.Email, r.Status, r.Detail, r.ProfilesFound, r.EventsExported,
		optTime(r.SubmittedAt), optTime(r.DueAt), optTime(r.CompletedAt), r.Late, r.DaysOpen)
}

func profileLine(r report.ProfileRow) string {
	return fmt.Sprintf("%s %s %q %s %s %s retrieved=%s", r.RequestID, r.MatchedBy, r.ObjectIDs, r.Identity, r.Email,
		r.ProfileDataJSON, clockTime(r.RetrievedAt))
}

func eventLine(r report.EventRow) string {
	return fmt.Sprintf("%s %s %s at=%s %s", r.RequestID, r.EventName, r.ObjectID, clockTime(r.EventTime), r.EventPropsJSON)
}

func deletionLine(r report.DeletionRow) string {
	return fmt.Sprintf("%s %s %s %q requested=%s verified=%s checks=%d last=%s %q", r.RequestID, r.Status, r.Email,
		r.ObjectIDs, optTime(r.DeleteRequestedAt), optTime(r.VerifiedAt), r.Checks, optTime(r.LastCheckedAt), r.Detail)
}

func rejectLine(r report.RejectRow) string {
	return fmt.Sprintf("%s:%d %s %s %s", r.SourceFile, r.SourceRow, r.RequestID, r.Column, r.Reason)
}

// collect runs one report query of a selection and renders its rows.
func collect[T any](tb testing.TB, query func(context.Context, report.Selection, func(T) error) error, sel report.Selection,
	line func(T) string) []string {
	tb.Helper()
	var out []string
	if err := query(tb.Context(), sel, func(r T) error { out = append(out, line(r)); return nil }); err != nil {
		tb.Fatalf("report of %+v: %v", sel, err)
	}
	return out
}

// The default view of run 2, without a report window: every open request
// (X1 too, which run 2 never touched) and the closed ones run 2 touched.
func TestReportsOfARun(t *testing.T) {
	l := mustReportLedger(t)
	sel := report.Selection{RunID: l.runID, Now: day0.Add(26 * 24 * time.Hour)}
	const due = "+720h0m0s"
	pending := func(n int, class, msg string) string {
		return fmt.Sprintf("attempt %d failed (%s): %s; the next run tries again", n, class, msg)
	}
	for _, c := range []struct {
		report string
		got    []string
		want   []string
	}{
		{"requests", collect(t, l.st.ReportRequests, sel, requestLine), []string{
			`A1 access a1@example.com done "bundle written" profiles=2 events=4 submitted=+0s due=` + due + ` completed=+2h0m0s late=false days=0`,
			`A2 access a2@example.com pending "` + pending(2, "server", "HTTP 503") + `" profiles=1 events=1 submitted=+0s due=` + due + ` completed=nil late=false days=26`,
			`A3 access a3@example.com pending "" profiles=0 events=0 submitted=+0s due=` + due + ` completed=nil late=false days=26`,
			`D1 deletion d1@example.com verified "no profile left" profiles=2 events=0 submitted=+0s due=` + due + ` completed=+27h0m0s late=false days=1`,
			`D2 deletion d2@example.com submitted "delete accepted by CleverTap; verifying" profiles=2 events=0 submitted=+0s due=` + due + ` completed=nil late=false days=26`,
			`D3 deletion d3@example.com pending "` + pending(1, "rate_limited", "HTTP 429") + `" profiles=0 events=0 submitted=+0s due=` + due + ` completed=nil late=false days=26`,
			`X1 access x1@example.com pending "" profiles=0 events=0 submitted=+0s due=` + due + ` completed=nil late=false days=26`,
			`X2 access x2@example.com not_found "no CleverTap profile matched" profiles=0 events=0 submitted=+0s due=` + due + ` completed=+4h0m0s late=false days=0`,
			`X3 access x3@example.com pending "" profiles=0 events=0 submitted=+0s due=` + due + ` completed=nil late=false days=26`,
		}},
		{"profiles (done access requests only, in the order found)", collect(t, l.st.ReportProfiles, sel, profileLine), []string{
			`A1 email ["g-p2" "h-p2"] u-p2 p2@example.com {"id":"p2"} retrieved=+1h0m0s`,
			`A1 both ["g-p1" "h-p1"] u-p1 p1@example.com {"id":"p1"} retrieved=+1h0m0s`,
		}},
		{"events (done access requests only, by name, then time)", collect(t, l.st.ReportEvents, sel, eventLine), []string{
			`A1 buy g-p1 at=+2s {}`,
			`A1 buy g-p1 at=+3s {"sku":1}`,
			`A1 open g-p1 at=+1s {}`,
			`A1 open g-p1 at=+3s {}`,
		}},
		{"deletions", collect(t, l.st.ReportDeletions, sel, deletionLine), []string{
			`D1 verified d1@example.com ["g-D1" "h-D1"] requested=+3h0m0s verified=+27h0m0s checks=1 last=+27h0m0s "no profile left"`,
			`D2 submitted d2@example.com ["g-D2" "h-D2"] requested=+3h0m0s verified=nil checks=0 last=nil "delete accepted by CleverTap; verifying"`,
			`D3 pending d3@example.com [] requested=nil verified=nil checks=0 last=nil "` + pending(1, "rate_limited", "HTTP 429") + `"`,
		}},
		{"rejects (of attached manifests only)", collect(t, l.st.ReportRejects, sel, rejectLine), []string{
			`a.csv:8 A9 request_type unknown request type "erase"`,
		}},
	} {
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s report of run 2:\n  %s\nwant\n  %s", c.report, strings.Join(c.got, "\n  "), strings.Join(c.want, "\n  "))
		}
	}
}

// What each selection covers. The ledger: A1 done at +2h, D1 verified at
// +27h, X2 not found at +4h; everything else open. Run 1 read a.csv and
// b.csv; run 2 attached a.csv and changed A1, A2, D1-D3 and X2; run 3
// attached nothing and changed X1 (a failed attempt).
func TestReportSelections(t *testing.T) {
	l := mustReportLedger(t)
	run2 := l.runID
	must(t, "EndRun", l.st.EndRun(t.Context(), run2, "ok"))
	run3 := mustBeginRun(t, l.st)
	must(t, "RecordFailure", l.st.RecordFailure(t.Context(), run3, "X1", batch.Failure{Class: "server", Message: "HTTP 500"}))
	now := day0.Add(40 * 24 * time.Hour)
	open := []string{"A2", "A3", "D2", "D3", "X1", "X3"}
	all := []string{"A1", "A2", "A3", "D1", "D2", "D3", "X1", "X2", "X3"}

	id := func(r report.RequestRow) string { return r.RequestID }
	for _, c := range []struct {
		what string
		sel  report.Selection
		want []string
	}{
		{"run 1, no window: open, and everything it read", report.Selection{RunID: l.run1}, all},
		{"run 3, no window: open only (it changed an open one)", report.Selection{RunID: run3}, open},
		{"run 3, closed since +3h", report.Selection{RunID: run3, ClosedSince: h(3)}, []string{"A2", "A3", "D1", "D2", "D3", "X1", "X2", "X3"}},
		{"an unknown run", report.Selection{RunID: "no-such-run"}, open},
		{"all", report.Selection{All: true}, all},
		{"manifest b.csv", report.Selection{ManifestSHA256: manifestInfo("b.csv", "b").SHA256}, []string{"X1", "X2", "X3"}},
		{"manifest b.csv closed since +5h", report.Selection{ManifestSHA256: manifestInfo("b.csv", "b").SHA256, ClosedSince: h(5)}, []string{"X1", "X3"}},
		{"request ids", report.Selection{RequestIDs: []string{"X2", "D1", "NOPE"}}, []string{"D1", "X2"}},
	} {
		c.sel.Now = now
		if got := collect(t, l.st.ReportRequests, c.sel, id); !slices.Equal(got, c.want) {
			t.Errorf("%s: %q, want %q", c.what, got, c.want)
		}
	}

	// Forty days after submission everything open is late; A1 and D1 were
	// done in time.
	late := func(r report.RequestRow) string { return fmt.Sprintf("%s %v %d", r.RequestID, r.Late, r.DaysOpen) }
	want := []string{"A1 false 0", "A2 true 40", "A3 true 40", "D1 false 1", "D2 true 40", "D3 true 40", "X1 true 40", "X2 false 0", "X3 true 40"}
	if got := collect(t, l.st.ReportRequests, report.Selection{All: true, Now: now}, late); !slices.Equal(got, want) {
		t.Errorf("late and days open at +40d: %q, want %q", got, want)
	}
}

// A reject whose request id was handed in again later, as a valid row, is
// settled: the reports leave it out (except --all).
func TestReportRejectsLeaveOutSettledOnes(t *testing.T) {
	l := mustReportLedger(t)
	l.clk.Add(time.Hour)
	mustImport(t, l.st, l.runID, manifestInfo("fixed.csv", "fixed"), []batch.Request{req("A9", "a9@example.com", "fixed.csv", 2)}, nil)
	sel := report.Selection{RunID: l.run1, Now: h(50)}
	if got := collect(t, l.st.ReportRejects, sel, rejectLine); !slices.Equal(got, []string{`b.csv:5  email not an email address`}) {
		t.Errorf("rejects of run 1 after A9 was fixed: %q", got)
	}
	sel = report.Selection{All: true, Now: h(50)}
	if got := collect(t, l.st.ReportRejects, sel, rejectLine); len(got) != 2 {
		t.Errorf("every reject: %q, want both", got)
	}
}

// readParquet reads every row of a report file back with parquet-go.
func readParquet[T any](tb testing.TB, path string) []T {
	tb.Helper()
	rows, err := parquet.ReadFile[T](path)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return rows
}

// The Parquet files Write renders from the ledger read back as the rows the
// queries yield.
func TestWriteFromTheLedger(t *testing.T) {
	l := mustReportLedger(t)
	dir := filepath.Join(t.TempDir(), "out")
	now := day0.Add(26 * 24 * time.Hour) // the open requests are due in 4 days
	sel := report.Selection{ManifestSHA256: manifestInfo("a.csv", "a").SHA256, Now: now}
	totals, err := report.Write(t.Context(), dir, l.st, sel, report.Options{DueSoon: checkpoint.DefaultDueWithin, Zone: time.UTC})
	if err != nil {
		t.Fatalf("Write: %v", err)
	}
	wantTotals := `{"access":{"done":1,"pending":3},"deletion":{"pending":1,"submitted":1,"verified":1}} ` +
		`requests=7 profiles=2 events=4 rejects=1 due_soon=5 overdue=0`
	if got := fmt.Sprintf("%s requests=%d profiles=%d events=%d rejects=%d due_soon=%d overdue=%d", jsonOf(t, totals.ByStatus),
		totals.Requests, totals.Profiles, totals.Events, totals.Rejects, totals.DueSoon, totals.Overdue); got != wantTotals {
		t.Errorf("Write totals = %s, want %s", got, wantTotals)
	}

	requests := readParquet[report.RequestRow](t, filepath.Join(dir, report.RequestsFile))
	profiles := readParquet[report.ProfileRow](t, filepath.Join(dir, report.ProfilesFile))
	events := readParquet[report.EventRow](t, filepath.Join(dir, report.EventsFile))
	deletions := readParquet[report.DeletionRow](t, filepath.Join(dir, report.DeletionsFile))
	rejects := readParquet[report.RejectRow](t, filepath.Join(dir, report.RejectsFile))
	for _, c := range []struct {
		file      string
		got, want int
	}{
		{report.RequestsFile, len(requests), 7},
		{report.ProfilesFile, len(profiles), 2},
		{report.EventsFile, len(events), 4},
		{report.DeletionsFile, len(deletions), 3},
		{report.RejectsFile, len(rejects), 1},
	} {
		if c.got != c.want {
			t.Errorf("%s has %d rows, want %d", c.file, c.got, c.want)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	for _, c := range []struct {
		what      string
		got, want string
	}{
		{"requests.parquet row 1", requestLine(requests[1]), `A2 access a2@example.com pending "attempt 2 failed (server): HTTP 503; the next run tries again" profiles=1 events=1 submitted=+0s due=+720h0m0s completed=nil late=false days=26`},
		{"requests.parquet row 4", requestLine(requests[4]), `D2 deletion d2@example.com submitted "delete accepted by CleverTap; verifying" profiles=2 events=0 submitted=+0s due=+720h0m0s completed=nil late=false days=26`},
		{"access_profiles.parquet row 0", profileLine(profiles[0]), `A1 email ["g-p2" "h-p2"] u-p2 p2@example.com {"id":"p2"} retrieved=+1h0m0s`},
		{"access_events.parquet row 1", eventLine(events[1]), `A1 buy g-p1 at=+3s {"sku":1}`},
		{"deletion_report.parquet row 0", deletionLine(deletions[0]), `D1 verified d1@example.com ["g-D1" "h-D1"] requested=+3h0m0s verified=+27h0m0s checks=1 last=+27h0m0s "no profile left"`},
		{"deletion_report.parquet row 1", deletionLine(deletions[1]), `D2 submitted d2@example.com ["g-D2" "h-D2"] requested=+3h0m0s verified=nil checks=0 last=nil "delete accepted by CleverTap; verifying"`},
		{"rejects.parquet row 0", rejectLine(rejects[0]), `a.csv:8 A9 request_type unknown request type "erase"`},
	} {
		if c.got != c.want {
			t.Errorf("%s = %s, want %s", c.what, c.got, c.want)
		}
	}
}

func jsonOf(tb testing.TB, v any) string {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}
