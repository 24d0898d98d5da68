package checkpoint_test

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

func TestSetStatusAndRecordFailure(t *testing.T) {
	clk := newClock(day0)
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{Now: clk.Now})
	runID := mustBeginRun(t, st)
	del := batch.Request{ID: "D1", Type: batch.Deletion, Email: "d@example.com", Source: batch.SourceRef{File: "a.csv", Row: 3}}
	mustImport(t, st, runID, manifestInfo("a.csv", "a"), []batch.Request{req("A1", "a@example.com", "a.csv", 2), del}, nil)
	clk.Add(time.Hour)

	if err := st.RecordFailure(t.Context(), runID, "A1", batch.Failure{Class: "server", Message: "HTTP 503"}); err != nil {
		t.Fatal(err)
	}
	got := mustRequest(t, st, "A1")
	if got.Status != batch.StatusPending || got.Attempts != 1 || got.LastErrorClass != "server" ||
		got.LastError != "HTTP 503" || !got.CompletedAt.IsZero() || got.LastRunID != runID || !got.UpdatedAt.Equal(clk.Now()) {
		t.Errorf("after a failed attempt: %+v", got)
	}

	done := day0.Add(2 * time.Hour)
	if err := st.SetStatus(t.Context(), runID, "A1", batch.StatusDone, "bundle written", done); err != nil {
		t.Fatal(err)
	}
	if got := mustRequest(t, st, "A1"); got.Status != batch.StatusDone || got.Detail != "bundle written" || !got.CompletedAt.Equal(done) {
		t.Errorf("after SetStatus(done): %+v", got)
	}

	if err := st.RecordFailure(t.Context(), runID, "D1", batch.Failure{Class: "invalid", Message: "HTTP 400", GiveUp: true}); err != nil {
		t.Fatal(err)
	}
	if got := mustRequest(t, st, "D1"); got.Status != batch.StatusFailed || got.Detail != "HTTP 400" || got.Attempts != 1 || got.CompletedAt.IsZero() {
		t.Errorf("after giving up: %+v", got)
	}
}

func TestSetStatusRefusesWhatCannotBe(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{})
	runID := mustBeginRun(t, st)
	mustImport(t, st, runID, manifestInfo("a.csv", "a"), []batch.Request{req("A1", "a@example.com", "a.csv", 2)}, nil)

	if err := st.SetStatus(t.Context(), runID, "A1", batch.StatusVerified, "", day0); err == nil {
		t.Error("an access request became verified")
	}
	if err := st.SetStatus(t.Context(), runID, "A1", "finished", "", day0); err == nil {
		t.Error("a request got an unknown status")
	}
	if err := st.SetStatus(t.Context(), runID, "NOPE", batch.StatusDone, "", day0); !errors.Is(err, checkpoint.ErrUnknownRequest) {
		t.Errorf("SetStatus of an unknown request = %v, want ErrUnknownRequest", err)
	}
	if err := st.RecordFailure(t.Context(), runID, "NOPE", batch.Failure{}); !errors.Is(err, checkpoint.ErrUnknownRequest) {
		t.Errorf("RecordFailure of an unknown request = %v, want ErrUnknownRequest", err)
	}
	if got := mustRequest(t, st, "A1"); got.Status != batch.StatusPending {
		t.Errorf("A1 after refused changes = %s, want pending", got.Status)
	}
}

// The run reads open requests a page at a time through the read pool while
// it writes their outcomes through the writer: a request closed after its
// page was read is not read again, and none is skipped.
func TestOpenWorkPagesWhileWriting(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{})
	runID := mustBeginRun(t, st)
	const n = 1234 // more than two pages
	var reqs []batch.Request
	for i := range n {
		reqs = append(reqs, req(fmt.Sprintf("R%05d", n-i), fmt.Sprintf("u%d@example.com", i), "a.csv", i+2))
	}
	mustImport(t, st, runID, manifestInfo("a.csv", "a"), reqs, nil)
	if err := st.SetStatus(t.Context(), runID, "R00007", batch.StatusNotFound, "", day0); err != nil {
		t.Fatal(err)
	}

	var (
		seen []string
		seqs []int64
	)
	done := 0
	var after batch.WorkCursor
	for {
		page, next, err := st.OpenWork(t.Context(), "", after, 500)
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range page {
			seen, seqs = append(seen, w.ID), append(seqs, w.Seq)
			if len(seen)%4 == 0 {
				done++
				if err := st.SetStatus(t.Context(), runID, w.ID, batch.StatusDone, "", day0); err != nil {
					t.Fatal(err)
				}
			}
		}
		if len(page) < 500 {
			break
		}
		after = next
	}
	if len(seen) != n-1 {
		t.Fatalf("visited %d open requests, want %d", len(seen), n-1)
	}
	for i := 1; i < len(seen); i++ {
		if seqs[i-1] >= seqs[i] {
			t.Fatalf("visited %s (seq %d) after %s (seq %d), want Seq order (every due date is the same)",
				seen[i], seqs[i], seen[i-1], seqs[i-1])
		}
	}
	c, err := st.Counts(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Open != n-1-done {
		t.Errorf("%d requests open after %d of %d were done, want %d", c.Open, done, n-1, n-1-done)
	}
}

func mustRequest(t *testing.T, st *checkpoint.Store, id string) checkpoint.RequestRecord {
	t.Helper()
	r, ok, err := st.Request(t.Context(), id)
	if err != nil || !ok {
		t.Fatalf("Request(%s) = %v, %v", id, ok, err)
	}
	return r
}
