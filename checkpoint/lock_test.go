package checkpoint_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/checkpoint"
)

func TestSecondRunFailsFastNamingTheHolder(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clk := newClock(day0)
	a := mustOpen(t, path, checkpoint.Options{Now: clk.Now})
	b := mustOpen(t, path, checkpoint.Options{Now: clk.Now})
	holder := mustBeginRun(t, a)
	clk.Add(30 * time.Second)

	_, err := b.BeginRun(t.Context(), checkpoint.RunInfo{})
	if !errors.Is(err, checkpoint.ErrLocked) {
		t.Fatalf("second BeginRun = %v, want ErrLocked", err)
	}
	var le *checkpoint.LockedError
	if !errors.As(err, &le) {
		t.Fatalf("second BeginRun = %T, want *LockedError", err)
	}
	host, _ := os.Hostname()
	if le.RunID != holder || le.PID != os.Getpid() || le.Host != host || !le.StartedAt.Equal(day0) {
		t.Errorf("LockedError = %+v, want run %s, pid %d, host %s, started %v", le, holder, os.Getpid(), host, day0)
	}
	for _, want := range []string{holder, fmt.Sprintf("pid %d", os.Getpid()), host, "2026-03-02T09:00:00Z", "30s ago"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}

	if err := a.EndRun(t.Context(), holder, "ok"); err != nil {
		t.Fatal(err)
	}
	mustBeginRun(t, b)
}

func TestOnlyOneOfConcurrentRunsGetsTheLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	const n = 4
	stores := make([]*checkpoint.Store, n)
	for i := range stores {
		stores[i] = mustOpen(t, path, checkpoint.Options{})
	}
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, st := range stores {
		wg.Go(func() { _, errs[i] = st.BeginRun(t.Context(), checkpoint.RunInfo{}) })
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case !errors.Is(err, checkpoint.ErrLocked):
			t.Errorf("BeginRun = %v, want nil or ErrLocked", err)
		}
	}
	if won != 1 {
		t.Errorf("%d of %d concurrent runs got the ledger, want exactly 1", won, n)
	}
}

func TestStaleLockIsTakenOverAndTheOldRunStopped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clk := newClock(day0)
	a := mustOpen(t, path, checkpoint.Options{Now: clk.Now})
	b := mustOpen(t, path, checkpoint.Options{Now: clk.Now, StaleLockAfter: time.Minute})
	old := mustBeginRun(t, a)
	mustImport(t, a, old, manifestInfo("a.csv", "a"), []batch.Request{req("R1", "a@example.com", "a.csv", 2)}, nil)

	clk.Add(50 * time.Second)
	if _, err := b.BeginRun(t.Context(), checkpoint.RunInfo{}); !errors.Is(err, checkpoint.ErrLocked) {
		t.Fatalf("BeginRun with a 50s-old heartbeat = %v, want ErrLocked", err)
	}
	if err := a.Heartbeat(t.Context(), old); err != nil {
		t.Fatal(err)
	}
	clk.Add(50 * time.Second) // 100s since start, 50s since the heartbeat
	if _, err := b.BeginRun(t.Context(), checkpoint.RunInfo{}); !errors.Is(err, checkpoint.ErrLocked) {
		t.Fatalf("BeginRun after a fresh heartbeat = %v, want ErrLocked", err)
	}

	clk.Add(11 * time.Second) // heartbeat 61s old: stale
	taker, err := b.BeginRun(t.Context(), checkpoint.RunInfo{})
	if err != nil {
		t.Fatalf("BeginRun with a stale heartbeat = %v, want a takeover", err)
	}

	for name, write := range map[string]func() error{
		"Heartbeat": func() error { return a.Heartbeat(t.Context(), old) },
		"SetStatus": func() error {
			return a.SetStatus(t.Context(), old, "R1", batch.StatusDone, "", clk.Now())
		},
		"RecordFailure": func() error {
			return a.RecordFailure(t.Context(), old, "R1", batch.Failure{Class: "transient", Message: "x"})
		},
		"NewImporter": func() error {
			_, err := a.NewImporter(t.Context(), old, manifestInfo("b.csv", "b"))
			return err
		},
		"AttachManifest": func() error { return a.AttachManifest(t.Context(), old, manifestInfo("a.csv", "a").SHA256) },
		"EndRun":         func() error { return a.EndRun(t.Context(), old, "ok") },
	} {
		if err := write(); !errors.Is(err, checkpoint.ErrLockLost) {
			t.Errorf("%s by the taken-over run = %v, want ErrLockLost", name, err)
		}
	}
	rec, _, err := b.Request(t.Context(), "R1")
	if err != nil || rec.Status != batch.StatusPending {
		t.Errorf("R1 after the old run's writes = %s, %v; want still pending", rec.Status, err)
	}

	c, err := b.Counts(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Lock == nil || c.Lock.RunID != taker {
		t.Errorf("lock = %+v, want held by %s", c.Lock, taker)
	}
	if c.Runs != 2 || c.LastRun == nil || c.LastRun.RunID != taker {
		t.Errorf("runs = %d, last %+v; want 2, the last %s", c.Runs, c.LastRun, taker)
	}
}

func TestImporterStopsWhenItsLockIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clk := newClock(day0)
	a := mustOpen(t, path, checkpoint.Options{Now: clk.Now, ImportBatch: 10})
	b := mustOpen(t, path, checkpoint.Options{Now: clk.Now})
	old := mustBeginRun(t, a)
	imp, err := a.NewImporter(t.Context(), old, manifestInfo("a.csv", "a"))
	if err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Hour)
	mustBeginRun(t, b) // takes over

	var addErr error
	for i := range 30 {
		if addErr = imp.Add(t.Context(), req(fmt.Sprintf("R%02d", i), "a@example.com", "a.csv", i+2)); addErr != nil {
			break
		}
	}
	if addErr == nil {
		_, addErr = imp.Finish(t.Context(), 30)
	}
	if !errors.Is(addErr, checkpoint.ErrLockLost) {
		t.Errorf("import after the takeover = %v, want ErrLockLost", addErr)
	}
	c, err := b.Counts(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Requests != 0 {
		t.Errorf("the taken-over run wrote %d requests, want 0", c.Requests)
	}
}

func TestEndRunRecordsTheOutcomeAndReleases(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	clk := newClock(day0)
	st := mustOpen(t, path, checkpoint.Options{Now: clk.Now})
	runID := mustBeginRun(t, st)
	clk.Add(time.Minute)
	if err := st.EndRun(t.Context(), runID, "rows_failed"); err != nil {
		t.Fatal(err)
	}
	c, err := st.Counts(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	want := checkpoint.RunRecord{RunID: runID, StartedAt: day0, EndedAt: day0.Add(time.Minute),
		ToolVersion: "test", Outcome: "rows_failed"}
	if c.Lock != nil || c.LastRun == nil || *c.LastRun != want {
		t.Errorf("after EndRun: lock %+v, last run %+v; want no lock and %+v", c.Lock, c.LastRun, want)
	}
	if err := st.EndRun(t.Context(), runID, "ok"); !errors.Is(err, checkpoint.ErrLockLost) {
		t.Errorf("second EndRun = %v, want ErrLockLost", err)
	}
}
