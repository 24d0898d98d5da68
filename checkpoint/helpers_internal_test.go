package checkpoint

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"testing"

	"github.com/ctdsr/ctdsr/batch"
)

func crashManifest() ManifestInfo {
	sum := sha256.Sum256([]byte("crash manifest"))
	return ManifestInfo{SHA256: hex.EncodeToString(sum[:]), Path: "crash.csv", Format: "csv"}
}

func crashRequest(i int) batch.Request {
	return batch.Request{
		ID: fmt.Sprintf("R-%04d", i), Type: batch.Access, Email: fmt.Sprintf("user%d@example.com", i),
		Source: batch.SourceRef{File: "crash.csv", Row: i + 2},
	}
}

func mustOpenInternal(t *testing.T, path string, opts Options) *Store {
	t.Helper()
	s, err := Open(t.Context(), path, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func countRows(t *testing.T, s *Store, query string, args ...any) int {
	t.Helper()
	var n int
	if err := s.rdb.QueryRowContext(t.Context(), query, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// crashImporter opens a ledger at path, begins a run and starts an import
// of crashManifest.
func crashImporter(t *testing.T, path string, opts Options) (*Store, string, *Importer) {
	t.Helper()
	s := mustOpenInternal(t, path, opts)
	runID, err := s.BeginRun(t.Context(), RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := s.NewImporter(t.Context(), runID, crashManifest())
	if err != nil {
		t.Fatal(err)
	}
	return s, runID, imp
}
