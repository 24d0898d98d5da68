package checkpoint_test

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// Reopen takes back exactly the closed requests its filter selects (status,
// closed since, request ids), starts their attempts again, and says in the
// detail and the history who reopened them; a selection the lifecycle does
// not allow to reopen changes nothing.
func TestReopenSelects(t *testing.T) {
	clk := newClock(day0)
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{Now: clk.Now})
	runID := mustBeginRun(t, st)
	del := batch.Request{ID: "D1", Type: batch.Deletion, Email: "d@example.com", Source: batch.SourceRef{File: "a.csv", Row: 6}}
	mustImport(t, st, runID, manifestInfo("a.csv", "a"), []batch.Request{
		req("A1", "a1@example.com", "a.csv", 2), req("A2", "a2@example.com", "a.csv", 3),
		req("A3", "a3@example.com", "a.csv", 4), req("A4", "a4@example.com", "a.csv", 5), del,
	}, nil)
	giveUp := batch.Failure{Class: "invalid", Message: "HTTP 400", GiveUp: true}

	clk.Add(time.Hour) // A1 fails early
	if err := st.RecordFailure(t.Context(), runID, "A1", giveUp); err != nil {
		t.Fatal(err)
	}
	clk.Add(72 * time.Hour) // A2 fails, D1 and A3 close, three days later
	if err := st.RecordFailure(t.Context(), runID, "A2", giveUp); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStatus(t.Context(), runID, "D1", batch.StatusNotFound, "no profile", clk.Now()); err != nil {
		t.Fatal(err)
	}
	if err := st.SetStatus(t.Context(), runID, "A3", batch.StatusDone, "bundle written", clk.Now()); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)

	n, err := st.Reopen(t.Context(), runID, checkpoint.ReopenFilter{
		Statuses: []batch.Status{batch.StatusFailed}, Since: day0.Add(48 * time.Hour)}, "tester@host")
	if err != nil || n != 1 {
		t.Fatalf("Reopen(failed since day 2) = %d, %v; want 1 (A2)", n, err)
	}
	a2 := mustRequest(t, st, "A2")
	if a2.Status != batch.StatusPending || a2.Attempts != 0 || a2.LastError != "" || a2.LastErrorClass != "" ||
		!a2.CompletedAt.IsZero() || !strings.Contains(a2.Detail, "reopened by tester@host") ||
		!strings.Contains(a2.Detail, "(was failed: HTTP 400)") {
		t.Errorf("A2 after reopen: %+v", a2)
	}
	h, err := st.History(t.Context(), "A2")
	if err != nil {
		t.Fatal(err)
	}
	if last := h[len(h)-1]; last.From != batch.StatusFailed || last.To != batch.StatusPending ||
		last.Actor != "tester@host" || last.Note != "reopened" || !last.At.Equal(clk.Now()) {
		t.Errorf("A2's last history entry %+v", last)
	}
	want := map[string]batch.Status{"A1": batch.StatusFailed, "A3": batch.StatusDone, "A4": batch.StatusPending, "D1": batch.StatusNotFound}
	for id, s := range want {
		if got := mustRequest(t, st, id).Status; got != s {
			t.Errorf("%s after reopening failed since day 2: %s, want %s", id, got, s)
		}
	}

	n, err = st.Reopen(t.Context(), runID, checkpoint.ReopenFilter{
		Statuses: []batch.Status{batch.StatusFailed, batch.StatusNotFound}, RequestIDs: []string{"A1", "A3"}}, "tester@host")
	if err != nil || n != 1 || mustRequest(t, st, "A1").Status != batch.StatusPending || mustRequest(t, st, "D1").Status != batch.StatusNotFound {
		t.Errorf("Reopen(failed or not_found, ids A1 A3) = %d, %v; want only A1 reopened", n, err)
	}

	if n, err := st.Reopen(t.Context(), runID, checkpoint.ReopenFilter{
		Statuses: []batch.Status{batch.StatusNotFound, batch.StatusDone}}, "tester@host"); !errors.Is(err, batch.ErrTransition) || n != 0 {
		t.Errorf("Reopen(not_found and done) = %d, %v; want ErrTransition", n, err)
	}
	if got := mustRequest(t, st, "D1").Status; got != batch.StatusNotFound {
		t.Errorf("D1 after a refused reopen: %s, want not_found (the whole reopen is undone)", got)
	}
	if _, err := st.Reopen(t.Context(), runID, checkpoint.ReopenFilter{}, "tester@host"); !errors.Is(err, batch.ErrTransition) {
		t.Errorf("Reopen without a status = %v, want ErrTransition", err)
	}
}
