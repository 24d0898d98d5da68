package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// A run whose manifest cannot be read exits 2 before any API call, and
// its summary.json says so rather than leaving an older "ok" in place.
func TestRunUnreadableManifestWritesSummary(t *testing.T) {
	ds, err := ctsim.DemoDataset()
	if err != nil {
		t.Fatal(err)
	}
	sim := startSimServer(t, ds, ctsim.Options{})
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("ticket,name\nT-1,someone\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, state := filepath.Join(dir, "out"), filepath.Join(dir, "l.db")
	res := ctdsr(t, runArgs(sim, state, out, "--manifest", bad)...)
	if res.code != ExitUsage {
		t.Fatalf("run with an unreadable manifest: %v; want exit %d", res, ExitUsage)
	}
	// Found from the header, before the ledger was created.
	if _, err := os.Lstat(state); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("run created the ledger %s (%v)", state, err)
	}
	if n := sim.totalCalls(); n != 0 {
		t.Errorf("API calls = %d, want 0", n)
	}
	s := readSummary(t, out)
	if s.Outcome != "unreadable_input" || !strings.Contains(s.Error, "bad.csv") {
		t.Errorf("summary outcome %q error %q; want unreadable_input naming bad.csv", s.Outcome, s.Error)
	}
}
