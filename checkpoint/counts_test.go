package checkpoint_test

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

func TestCounts(t *testing.T) {
	clk := newClock(day0)
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{Now: clk.Now})
	runID := mustBeginRun(t, st)

	due := func(r batch.Request, submitted time.Time, dueIn time.Duration) batch.Request {
		r.SubmittedAt, r.DueAt = submitted, day0.Add(dueIn)
		return r
	}
	del := func(id string, row int) batch.Request {
		return batch.Request{ID: id, Type: batch.Deletion, UserID: "u-" + id, Source: batch.SourceRef{File: "a.csv", Row: row}}
	}
	mustImport(t, st, runID, manifestInfo("a.csv", "a"), []batch.Request{
		due(req("A1", "a@example.com", "a.csv", 2), day0.Add(-40*24*time.Hour), -10*24*time.Hour), // overdue
		due(req("A2", "b@example.com", "a.csv", 3), day0.Add(-50*24*time.Hour), -20*24*time.Hour), // overdue, but done
		due(req("A3", "c@example.com", "a.csv", 4), day0.Add(-27*24*time.Hour), 3*24*time.Hour),   // due soon
		due(req("A4", "d@example.com", "a.csv", 5), day0, 30*24*time.Hour),                        // due later
		due(del("D1", 6), day0.Add(-31*24*time.Hour), -24*time.Hour),                              // overdue
		del("D2", 7), // no dates: open, neither overdue nor due soon
		due(del("D3", 8), day0.Add(-35*24*time.Hour), -5*24*time.Hour), // past due, but closed on submit
	}, []batch.Reject{{SourceFile: "a.csv", SourceRow: 9, Reason: "no request id"}})
	if err := st.SetStatus(t.Context(), runID, "A2", batch.StatusDone, "", day0); err != nil {
		t.Fatal(err)
	}
	// D2's delete was accepted and awaits verification: still open.
	if err := st.PlanDeletion(t.Context(), runID, "D2", batch.DeletionPlan{ObjectIDs: []string{"g-2"}, Profiles: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkDeleteSubmitted(t.Context(), runID, []string{"D2"}, day0, day0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// D3's was accepted by a run that counts a delete as done on submit:
	// closed.
	if err := st.PlanDeletion(t.Context(), runID, "D3", batch.DeletionPlan{ObjectIDs: []string{"g-3"}, Profiles: 1}); err != nil {
		t.Fatal(err)
	}
	if err := st.MarkDeleteSubmitted(t.Context(), runID, []string{"D3"}, day0, day0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStatus(t.Context(), runID, "D3", batch.StatusDeleteAccepted, "counted as done on submit", day0); err != nil {
		t.Fatal(err)
	}

	c, err := st.Counts(t.Context(), 7*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	wantByStatus := []checkpoint.StatusCount{
		{Type: batch.Access, Status: batch.StatusDone, N: 1},
		{Type: batch.Access, Status: batch.StatusPending, N: 3},
		{Type: batch.Deletion, Status: batch.StatusDeleteAccepted, N: 1},
		{Type: batch.Deletion, Status: batch.StatusDeleteSubmitted, N: 1},
		{Type: batch.Deletion, Status: batch.StatusPending, N: 1},
	}
	if !slices.Equal(c.ByStatus, wantByStatus) {
		t.Errorf("ByStatus = %+v, want %+v", c.ByStatus, wantByStatus)
	}
	for _, f := range []struct {
		name      string
		got, want int
	}{
		{"Requests", c.Requests, 7}, {"Open", c.Open, 5}, {"Overdue", c.Overdue, 2}, {"DueSoon", c.DueSoon, 1},
		// Late: the two overdue open ones (A1, D1), and the two closed after
		// their due date (A2 done, D3 counted as done on submit).
		{"Late", c.Late, 4},
		{"Manifests", c.Manifests, 1}, {"Rejects", c.Rejects, 1}, {"Runs", c.Runs, 1},
	} {
		if f.got != f.want {
			t.Errorf("%s = %d, want %d", f.name, f.got, f.want)
		}
	}
	if c.OldestOpenID != "A1" || !c.OldestOpenAt.Equal(day0.Add(-40*24*time.Hour)) {
		t.Errorf("oldest open = %s at %v, want A1 at %v", c.OldestOpenID, c.OldestOpenAt, day0.Add(-40*24*time.Hour))
	}
	if c.Lock == nil || c.Lock.RunID != runID || c.LastRun == nil || c.LastRun.RunID != runID || c.LastRun.Outcome != "" {
		t.Errorf("lock %+v, last run %+v; want both the running %s", c.Lock, c.LastRun, runID)
	}

	// The lists of `ctdsr status --list` hold what the counts count, the
	// most urgent (earliest due) first.
	for _, l := range []struct {
		name string
		want []string
		n    int
	}{
		{"open", []string{"A1", "D1", "A3", "A4", "D2"}, c.Open},
		{"overdue", []string{"A1", "D1"}, c.Overdue},
		{"due-soon", []string{"A3"}, c.DueSoon},
		{"late", []string{"A2", "A1", "D3", "D1"}, c.Late},
		{"conflict", nil, 0},
	} {
		var got []string
		err := st.ListRequests(t.Context(), l.name, day0, 7*24*time.Hour, func(r checkpoint.ListedRequest) error {
			got = append(got, r.ID)
			return nil
		})
		if err != nil {
			t.Fatalf("list %s: %v", l.name, err)
		}
		if !slices.Equal(got, l.want) || len(got) != l.n {
			t.Errorf("list %s = %v, want %v (its count is %d)", l.name, got, l.want, l.n)
		}
	}
	if err := st.ListRequests(t.Context(), "urgent", day0, 0, func(checkpoint.ListedRequest) error { return nil }); err == nil {
		t.Error("list urgent: no error")
	}
}

func TestCountsOfANewLedger(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{})
	c, err := st.Counts(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests != 0 || c.ByStatus != nil || c.OldestOpenID != "" || c.LastRun != nil || c.Lock != nil {
		t.Errorf("Counts of a new ledger = %+v, want all zero", c)
	}
}
