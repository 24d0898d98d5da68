package checkpoint

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// A batch that fails part-way leaves nothing of itself: its earlier chunks
// are rolled back with it.
func TestFailedBatchWritesNothing(t *testing.T) {
	s := mustOpenInternal(t, filepath.Join(t.TempDir(), "ledger.db"), Options{})
	runID, err := s.BeginRun(t.Context(), RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := s.NewImporter(t.Context(), runID, crashManifest())
	if err != nil {
		t.Fatal(err)
	}
	p := &pending{}
	for i := range 5 * chunkRows {
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
	if _, err := s.writeBatch(t.Context(), runID, imp.manifestID, p); err == nil {
		t.Fatal("writeBatch stored a request of type export")
	}
	if n := countRows(t, s, "SELECT count(*) FROM requests"); n != 0 {
		t.Errorf("the failed batch left %d requests, want 0", n)
	}

	// The Importer reports such a failure on the next call and stops.
	imp.buf = p
	imp.startBatch(t.Context())
	err = imp.Add(t.Context(), crashRequest(9999))
	if err == nil {
		_, err = imp.Finish(t.Context(), 1)
	}
	if err == nil {
		t.Fatal("the importer did not report its failed batch")
	}
	want := fmt.Sprintf("rows %d-%d", 2, 5*chunkRows+1)
	if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "crash.csv") {
		t.Errorf("error %q does not name the file and %s", err, want)
	}
	if err2 := imp.Add(t.Context(), crashRequest(1)); err2 == nil {
		t.Error("Add after a failed batch succeeded")
	}
	if err := imp.Close(); err != nil {
		t.Errorf("Close after the failure reported = %v, want nil", err)
	}
}

func TestCloseWaitsForTheBatchInFlight(t *testing.T) {
	s := mustOpenInternal(t, filepath.Join(t.TempDir(), "ledger.db"), Options{ImportBatch: 50})
	runID, err := s.BeginRun(t.Context(), RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := s.NewImporter(t.Context(), runID, crashManifest())
	if err != nil {
		t.Fatal(err)
	}
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
