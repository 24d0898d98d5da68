package checkpoint

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A transaction that fails part-way leaves nothing of itself: the buffers
// written into it before and its own earlier chunks are rolled back with it.
func TestFailedTransactionWritesNothing(t *testing.T) {
	s, _, imp := crashImporter(t, filepath.Join(t.TempDir(), "ledger.db"), Options{ImportBatch: 10 * chunkRows})
	fill := func(from, to int) *pending {
		p := &pending{}
		for i := from; i < to; i++ {
			r := crashRequest(i)
			if i == 3*chunkRows+10 {
				r.Type = "export" // passes nothing but the SQL CHECK: Add would refuse it
			}
			h, err := contentHash(r)
			if err != nil {
				t.Fatal(err)
			}
			p.reqs, p.hashes = append(p.reqs, r), append(p.hashes, h)
		}
		return p
	}
	imp.buf = fill(0, 2*chunkRows)
	imp.startWrite(t.Context(), false)
	if err := imp.wait(); err != nil {
		t.Fatalf("the first buffer: %v", err)
	}
	if imp.tx == nil || imp.tx.rows != 2*chunkRows {
		t.Fatal("the first buffer is not held in an open transaction")
	}

	// The Importer reports the failure on the next call and stops.
	imp.buf = fill(2*chunkRows, 5*chunkRows)
	imp.startWrite(t.Context(), false)
	err := imp.Add(t.Context(), crashRequest(9999))
	if err == nil {
		_, err = imp.Finish(t.Context(), 1)
	}
	if err == nil {
		t.Fatal("the importer did not report its failed buffer")
	}
	want := fmt.Sprintf("rows %d-%d", 2*chunkRows+2, 5*chunkRows+1)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "crash.csv") {
		t.Errorf("error %q does not name the file and %s", err, want)
	}
	if n := countRows(t, s, "SELECT count(*) FROM requests"); n != 0 {
		t.Errorf("the failed transaction left %d requests, want 0", n)
	}
	if got := imp.Result(); got != (ImportResult{}) {
		t.Errorf("Result = %+v, want nothing: nothing committed", got)
	}
	if err2 := imp.Add(t.Context(), crashRequest(1)); err2 == nil {
		t.Error("Add after a failed batch succeeded")
	}
	if err := imp.Close(); err != nil {
		t.Errorf("Close after the failure reported = %v, want nil", err)
	}
}

// A transaction spans several buffers: ImportBatch rows are committed at
// once while only importBuffer rows are held in memory, and Close rolls
// back the rows written but not committed.
func TestTransactionSpansBuffers(t *testing.T) {
	s, runID, imp := crashImporter(t, filepath.Join(t.TempDir(), "ledger.db"), Options{ImportBatch: 30, importBuffer: 10})
	for i := range 45 {
		if err := imp.Add(t.Context(), crashRequest(i)); err != nil {
			t.Fatal(err)
		}
		if n := imp.buf.len(); n > 10 {
			t.Fatalf("the importer holds %d rows, want at most 10", n)
		}
	}
	if err := imp.wait(); err != nil {
		t.Fatal(err)
	}
	// Rows 0-29 committed; 30-39 written into the open transaction; 40-44 queued.
	if got := imp.Result(); got.Added != 30 {
		t.Errorf("Result = %+v, want 30 added", got)
	}
	if err := imp.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "SELECT count(*) FROM requests"); n != 30 {
		t.Errorf("after Close the ledger holds %d requests, want the 30 committed", n)
	}

	// Importing again finishes the job: the first 30 unchanged.
	imp, err := s.NewImporter(t.Context(), runID, crashManifest())
	if err != nil {
		t.Fatal(err)
	}
	for i := range 45 {
		if err := imp.Add(t.Context(), crashRequest(i)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := imp.Finish(t.Context(), 45)
	if err != nil {
		t.Fatal(err)
	}
	if res.Added != 15 || res.Unchanged != 30 {
		t.Errorf("second import = %+v, want 15 added, 30 unchanged", res)
	}
}

func TestCloseWaitsForTheBatchInFlight(t *testing.T) {
	s, _, imp := crashImporter(t, filepath.Join(t.TempDir(), "ledger.db"), Options{ImportBatch: 50})
	for i := range 70 { // one batch of 50 in flight, 20 queued
		if err := imp.Add(t.Context(), crashRequest(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := imp.Close(); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, s, "SELECT count(*) FROM requests"); n != 50 {
		t.Errorf("after Close the ledger holds %d requests, want the 50 of the batch in flight", n)
	}
	if got := imp.Result(); got.Added != 50 {
		t.Errorf("Result after Close = %+v, want 50 added", got)
	}
	if err := imp.Add(t.Context(), crashRequest(99)); err == nil {
		t.Error("Add after Close succeeded")
	}
	if loaded, _ := s.ManifestLoaded(t.Context(), crashManifest().SHA256); loaded {
		t.Error("a closed import marked its manifest loaded")
	}
}
