package checkpoint_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
)

func TestImportStoresRequestsAndRejects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clk := newClock(day0)
	st := mustOpen(t, path, checkpoint.Options{Now: clk.Now})
	runID := mustBeginRun(t, st)
	m := manifestInfo("a.csv", "a")
	r1 := req("R1", "a@example.com", "a.csv", 2)
	r2 := batch.Request{ID: "R2", Type: batch.Deletion, UserID: "cust-2", Source: batch.SourceRef{File: "a.csv", Row: 3}}
	bad := batch.Reject{SourceFile: "a.csv", SourceRow: 4, RequestID: "R3", Column: "email", Reason: `"x@" is not an email address`}

	if loaded, err := st.ManifestLoaded(t.Context(), m.SHA256); err != nil || loaded {
		t.Fatalf("ManifestLoaded before = %v, %v; want false", loaded, err)
	}
	res := mustImport(t, st, runID, m, []batch.Request{r1, r2}, []batch.Reject{bad})
	if want := (checkpoint.ImportResult{Added: 2, Rejected: 1}); res != want {
		t.Errorf("import = %+v, want %+v", res, want)
	}
	if loaded, err := st.ManifestLoaded(t.Context(), m.SHA256); err != nil || !loaded {
		t.Errorf("ManifestLoaded after = %v, %v; want true", loaded, err)
	}

	got, ok, err := st.Request(t.Context(), "R1")
	if err != nil || !ok {
		t.Fatalf("Request(R1) = %v, %v", ok, err)
	}
	want := checkpoint.RequestRecord{
		Request: r1, ManifestSHA: m.SHA256, Status: batch.StatusPending,
		CreatedAt: day0, UpdatedAt: day0, Seq: 1, // the first row loaded
	}
	if got != want {
		t.Errorf("Request(R1) =\n  %+v\nwant\n  %+v", got, want)
	}
	if got, _, _ := st.Request(t.Context(), "R2"); got.Request != r2 {
		t.Errorf("Request(R2) = %+v, want %+v", got.Request, r2)
	}
	if _, ok, err := st.Request(t.Context(), "R3"); ok || err != nil {
		t.Errorf("Request(R3) = %v, %v; want not found", ok, err)
	}
	if got := rejectsOf(t, st, runID); len(got) != 1 || got[0] != bad {
		t.Errorf("Rejects = %+v, want [%+v]", got, bad)
	}
}

func TestReimportingAManifestAddsNothing(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{ImportBatch: 2})
	runID := mustBeginRun(t, st)
	m := manifestInfo("a.csv", "a")
	reqs := []batch.Request{req("R1", "a@example.com", "a.csv", 2), req("R2", "b@example.com", "a.csv", 3),
		req("R1", "a@example.com", "a.csv", 4), req("R3", "c@example.com", "a.csv", 5)}
	rejs := []batch.Reject{{SourceFile: "a.csv", SourceRow: 6, Reason: "no request id"}}

	first := mustImport(t, st, runID, m, reqs, rejs)
	if want := (checkpoint.ImportResult{Added: 3, Merged: 1, Rejected: 1}); first != want {
		t.Errorf("first import = %+v, want %+v", first, want)
	}
	before := summary(t, st)
	again := mustImport(t, st, runID, m, reqs, rejs)
	if want := (checkpoint.ImportResult{Unchanged: 3, Merged: 1, Rejected: 1}); again != want {
		t.Errorf("second import = %+v, want %+v", again, want)
	}
	if after := summary(t, st); after != before {
		t.Errorf("second import changed the ledger: %+v, was %+v", after, before)
	}
}

func TestEditedReexportIsMatchedByContentNotPosition(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{})
	runID := mustBeginRun(t, st)
	mustImport(t, st, runID, manifestInfo("a.csv", "v1"), []batch.Request{
		req("R1", "a@example.com", "a.csv", 2),
		req("R2", "b@example.com", "a.csv", 3),
		req("R3", "c@example.com", "a.csv", 4),
	}, nil)

	// The re-export reorders rows, edits R2's email and adds R4.
	res := mustImport(t, st, runID, manifestInfo("a.csv", "v2"), []batch.Request{
		req("R3", "c@example.com", "a.csv", 2),
		req("R1", "a@example.com", "a.csv", 3),
		req("R2", "b.new@example.com", "a.csv", 4),
		req("R4", "d@example.com", "a.csv", 5),
	}, nil)
	if want := (checkpoint.ImportResult{Added: 1, Unchanged: 2, Conflicts: 1}); res != want {
		t.Errorf("re-export import = %+v, want %+v", res, want)
	}
	r2, _, err := st.Request(t.Context(), "R2")
	if err != nil || r2.Email != "b@example.com" {
		t.Errorf("R2's email = %q, %v; want the first read b@example.com, not overwritten", r2.Email, err)
	}
	wantReject := batch.Reject{SourceFile: "a.csv", SourceRow: 4, RequestID: "R2", Column: "request_id",
		Reason: "request id already used at a.csv:3 with different content"}
	var found bool
	for _, r := range rejectsOf(t, st, runID) {
		found = found || r == wantReject
	}
	if !found {
		t.Errorf("rejects %+v lack %+v", rejectsOf(t, st, runID), wantReject)
	}
	if s := summary(t, st); s.requests != 4 || s.rows != 6 || s.rejects != 1 {
		t.Errorf("ledger = %+v, want 4 requests, 6 rows mapped to them, 1 reject", s)
	}
}

func TestImportAcrossManyBatches(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{ImportBatch: 7})
	runID := mustBeginRun(t, st)
	var reqs []batch.Request
	want := checkpoint.ImportResult{}
	for i := range 300 {
		id, email := fmt.Sprintf("R%03d", i), fmt.Sprintf("u%d@example.com", i)
		switch {
		case i%10 == 3: // repeats the row before, maybe in the batch before
			id, email = fmt.Sprintf("R%03d", i-1), fmt.Sprintf("u%d@example.com", i-1)
			want.Merged++
		case i%10 == 7: // takes the id of a row 5 before, with other content
			id = fmt.Sprintf("R%03d", i-5)
			want.Conflicts++
		default:
			want.Added++
		}
		reqs = append(reqs, req(id, email, "a.csv", i+2))
	}
	if res := mustImport(t, st, runID, manifestInfo("a.csv", "a"), reqs, nil); res != want {
		t.Errorf("import = %+v, want %+v", res, want)
	}
	if s := summary(t, st); s.requests != want.Added || s.rows != want.Added+want.Merged || s.rejects != want.Conflicts {
		t.Errorf("ledger = %+v, want %d requests, %d rows, %d rejects", s, want.Added, want.Added+want.Merged, want.Conflicts)
	}
}

func TestImportRefusesRowsAReaderMustNotProduce(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{})
	runID := mustBeginRun(t, st)
	good := req("R1", "a@example.com", "a.csv", 2)
	for name, r := range map[string]batch.Request{
		"no id":         {Type: batch.Access, Email: "a@example.com", Source: good.Source},
		"unknown type":  {ID: "R1", Type: "export", Email: "a@example.com", Source: good.Source},
		"no subject":    {ID: "R1", Type: batch.Access, Source: good.Source},
		"no source row": {ID: "R1", Type: batch.Access, Email: "a@example.com"},
	} {
		t.Run(name, func(t *testing.T) {
			imp, err := st.NewImporter(t.Context(), runID, manifestInfo("a.csv", name))
			if err != nil {
				t.Fatal(err)
			}
			if err := imp.Add(t.Context(), r); err == nil {
				t.Fatal("accepted")
			}
			if err := imp.Add(t.Context(), good); err != nil {
				t.Errorf("a good row after a refused one: %v", err)
			}
		})
	}
	imp, err := st.NewImporter(t.Context(), runID, manifestInfo("a.csv", "rejects"))
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Reject(t.Context(), batch.Reject{SourceFile: "a.csv", SourceRow: 2}); err == nil {
		t.Error("Reject accepted a reject without a reason")
	}
	if _, err := st.NewImporter(t.Context(), runID, checkpoint.ManifestInfo{SHA256: "abc", Path: "x.csv"}); err == nil {
		t.Error("NewImporter accepted a SHA-256 of 3 hex digits")
	}
}

func TestFinishedImporterRefusesMoreRows(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{})
	runID := mustBeginRun(t, st)
	imp, err := st.NewImporter(t.Context(), runID, manifestInfo("a.csv", "a"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Finish(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if err := imp.Add(t.Context(), req("R1", "a@example.com", "a.csv", 2)); !errors.Is(err, checkpoint.ErrClosed) {
		t.Errorf("Add after Finish = %v, want ErrClosed", err)
	}
}

func TestAttachManifestPutsItsRejectsInTheRun(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{})
	first := mustBeginRun(t, st)
	m := manifestInfo("a.csv", "a")
	bad := batch.Reject{SourceFile: "a.csv", SourceRow: 3, Reason: "no email or user id"}
	mustImport(t, st, first, m, []batch.Request{req("R1", "a@example.com", "a.csv", 2)}, []batch.Reject{bad})
	if err := st.EndRun(t.Context(), first, "ok"); err != nil {
		t.Fatal(err)
	}

	second := mustBeginRun(t, st)
	if got := rejectsOf(t, st, second); len(got) != 0 {
		t.Errorf("rejects of a run that read nothing = %+v, want none", got)
	}
	if err := st.AttachManifest(t.Context(), second, m.SHA256); err != nil {
		t.Fatal(err)
	}
	if got := rejectsOf(t, st, second); len(got) != 1 || got[0] != bad {
		t.Errorf("rejects after attaching = %+v, want [%+v]", got, bad)
	}
	err := st.AttachManifest(t.Context(), second, manifestInfo("b.csv", "b").SHA256)
	if !errors.Is(err, checkpoint.ErrUnknownManifest) {
		t.Errorf("AttachManifest of an unknown manifest = %v, want ErrUnknownManifest", err)
	}
}

func TestImportHonoursCancellation(t *testing.T) {
	st := mustOpen(t, filepath.Join(t.TempDir(), "ledger.db"), checkpoint.Options{ImportBatch: 5})
	runID := mustBeginRun(t, st)
	imp, err := st.NewImporter(t.Context(), runID, manifestInfo("a.csv", "a"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var addErr error
	for i := range 20 {
		if addErr = imp.Add(ctx, req(fmt.Sprintf("R%02d", i), "a@example.com", "a.csv", i+2)); addErr != nil {
			break
		}
	}
	if addErr == nil {
		_, addErr = imp.Finish(ctx, 20)
	}
	if !errors.Is(addErr, context.Canceled) {
		t.Errorf("import under a cancelled context = %v, want context.Canceled", addErr)
	}
	if s := summary(t, st); s.requests != 0 {
		t.Errorf("cancelled import stored %d requests", s.requests)
	}
}

// ledgerSummary counts what the ledger holds.
type ledgerSummary struct {
	requests, rows, rejects, manifests int
}

func summary(t *testing.T, st *checkpoint.Store) ledgerSummary {
	t.Helper()
	p := st.Path()
	return ledgerSummary{
		requests:  rawInt(t, p, "SELECT count(*) FROM requests"),
		rows:      rawInt(t, p, "SELECT count(*) FROM request_rows"),
		rejects:   rawInt(t, p, "SELECT count(*) FROM rejects"),
		manifests: rawInt(t, p, "SELECT count(*) FROM manifests"),
	}
}

func rejectsOf(t *testing.T, st *checkpoint.Store, runID string) []batch.Reject {
	t.Helper()
	var got []batch.Reject
	sel := report.Selection{RunID: runID, Now: day0}
	if err := st.ReportRejects(t.Context(), sel, func(r report.RejectRow) error {
		got = append(got, batch.Reject{SourceFile: r.SourceFile, SourceRow: int(r.SourceRow), RequestID: r.RequestID, Column: r.Column, Reason: r.Reason})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}
