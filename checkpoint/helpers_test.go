package checkpoint_test

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"

	"github.com/ctdsr/ctdsr/checkpoint"
)

func mustOpen(tb testing.TB, path string, opts checkpoint.Options) *checkpoint.Store {
	tb.Helper()
	st, err := checkpoint.Open(tb.Context(), path, opts)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

func mustBeginRun(tb testing.TB, st *checkpoint.Store) string {
	tb.Helper()
	runID, err := st.BeginRun(tb.Context(), checkpoint.RunInfo{Args: []string{"run"}, ToolVersion: "test"})
	if err != nil {
		tb.Fatalf("BeginRun: %v", err)
	}
	return runID
}

// manifestInfo names a manifest whose SHA-256 is derived from content, a
// stand-in for the file's bytes.
func manifestInfo(path, content string) checkpoint.ManifestInfo {
	sum := sha256.Sum256([]byte(content))
	return checkpoint.ManifestInfo{SHA256: hex.EncodeToString(sum[:]), Path: path, Format: "csv"}
}
