//go:build unix

package checkpoint

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
)

// These tests kill a child process that holds the ledger: the test binary
// run again with childEnv naming what it should do (see runChild).
const (
	childEnv   = "CTDSR_CHECKPOINT_CHILD"
	ledgerEnv  = "CTDSR_CHECKPOINT_LEDGER"
	crashRows  = 250 // rows the child imports
	crashBatch = 100 // its ImportBatch
)

func TestMain(m *testing.M) {
	if spec := os.Getenv(simEnv); spec != "" {
		if err := serveSim(spec); err != nil {
			fmt.Fprintln(os.Stderr, "simulator child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if spec := os.Getenv(exportEnv); spec != "" {
		if err := runExport(spec); err != nil {
			fmt.Fprintln(os.Stderr, "export child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if mode := os.Getenv(childEnv); mode != "" {
		if err := runChild(mode, os.Getenv(ledgerEnv)); err != nil {
			fmt.Fprintln(os.Stderr, "child:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runChild does what mode says to the ledger at path, prints "ready" and
// the run id, and waits to be killed.
func runChild(mode, path string) error {
	ctx := context.Background()
	s, err := Open(ctx, path, Options{ImportBatch: crashBatch})
	if err != nil {
		return err
	}
	runID, err := s.BeginRun(ctx, RunInfo{Args: []string{"child", mode}, ToolVersion: "test"})
	if err != nil {
		return err
	}
	switch mode {
	case "lock":
	case "import":
		imp, err := s.NewImporter(ctx, runID, crashManifest())
		if err != nil {
			return err
		}
		for i := range crashRows {
			if err := imp.Add(ctx, crashRequest(i)); err != nil {
				return err
			}
		}
		// Two batches are committed once the second is waited for;
		// the last 50 rows are only queued when the process dies.
		if err := imp.wait(); err != nil {
			return err
		}
	case "export":
		// The request was imported and "E" exported once by the parent;
		// an export of it again dies after two pages.
		id, err := s.BeginEvents(ctx, runID, crashRequest(0).ID, "E")
		if err != nil {
			return err
		}
		for page := range 2 {
			if err := s.AppendEvents(ctx, runID, []batch.EventPage{{Part: id, Events: crashEvents(page*3, 3)}}); err != nil {
				return err
			}
		}
	case "status":
		if err := s.SetStatus(ctx, runID, crashRequest(0).ID, batch.StatusDone, "bundle written", time.Now()); err != nil {
			return err
		}
	default:
		return fmt.Errorf("unknown mode %q", mode)
	}
	fmt.Println("ready", runID)
	time.Sleep(time.Hour)
	return nil
}

// killChild starts the child in mode on the ledger at path, waits until it
// is ready, kills it with SIGKILL and returns its run id.
func killChild(t *testing.T, mode, path string) string {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, ledgerEnv+"="+path)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("child %s did not get ready: %v; stderr: %s", mode, err, stderr.String())
	}
	runID, ok := strings.CutPrefix(strings.TrimSpace(line), "ready ")
	if !ok {
		t.Fatalf("child %s said %q", mode, line)
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	// Reap it: a zombie still answers signal 0.
	if err := cmd.Wait(); err == nil {
		t.Fatal("killed child exited cleanly")
	}
	return runID
}

func TestKilledImportKeepsCommittedBatchesOnly(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	dead := killChild(t, "import", path)

	s := mustOpenInternal(t, path, Options{})
	if got := countRows(t, s, "SELECT count(*) FROM requests"); got != 2*crashBatch {
		t.Fatalf("after the kill the ledger holds %d requests, want the %d of the two committed batches", got, 2*crashBatch)
	}
	if got := countRows(t, s, "SELECT count(*) FROM requests WHERE request_id >= 'R-0200'"); got != 0 {
		t.Errorf("%d requests of the uncommitted batch are in the ledger", got)
	}
	loaded, err := s.ManifestLoaded(t.Context(), crashManifest().SHA256)
	if err != nil || loaded {
		t.Fatalf("ManifestLoaded after the kill = %v, %v; want false (not every row was imported)", loaded, err)
	}

	// The dead child's lock is taken over at once: its pid is gone.
	runID, err := s.BeginRun(t.Context(), RunInfo{Args: []string{"run"}})
	if err != nil {
		t.Fatalf("BeginRun after the holder was killed: %v", err)
	}
	var outcome string
	if err := s.rdb.QueryRowContext(t.Context(), "SELECT outcome FROM runs WHERE run_id = ?", dead).Scan(&outcome); err != nil {
		t.Fatal(err)
	}
	if outcome != "abandoned" {
		t.Errorf("killed run's outcome = %q, want abandoned", outcome)
	}

	// Reading the whole manifest again adds the missing rows, once.
	imp, err := s.NewImporter(t.Context(), runID, crashManifest())
	if err != nil {
		t.Fatal(err)
	}
	for i := range crashRows {
		if err := imp.Add(t.Context(), crashRequest(i)); err != nil {
			t.Fatal(err)
		}
	}
	res, err := imp.Finish(t.Context(), crashRows)
	if err != nil {
		t.Fatal(err)
	}
	want := ImportResult{Added: crashRows - 2*crashBatch, Unchanged: 2 * crashBatch}
	if res != want {
		t.Errorf("re-import = %+v, want %+v", res, want)
	}
	if got := countRows(t, s, "SELECT count(*) FROM requests"); got != crashRows {
		t.Errorf("ledger holds %d requests, want %d", got, crashRows)
	}
	if got := countRows(t, s, "SELECT count(*) FROM request_rows"); got != crashRows {
		t.Errorf("ledger maps %d manifest rows, want %d (each once)", got, crashRows)
	}
	if loaded, err := s.ManifestLoaded(t.Context(), crashManifest().SHA256); err != nil || !loaded {
		t.Errorf("ManifestLoaded after the re-import = %v, %v; want true", loaded, err)
	}
}

func TestStatusIsDurableWhenSetStatusReturns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s, runID, imp := crashImporter(t, path, Options{})
	if err := imp.Add(t.Context(), crashRequest(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Finish(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	if err := s.EndRun(t.Context(), runID, "ok"); err != nil {
		t.Fatal(err)
	}

	killChild(t, "status", path) // sets the status, then dies

	rec, ok, err := s.Request(t.Context(), crashRequest(0).ID)
	if err != nil || !ok {
		t.Fatalf("Request = %v, %v", ok, err)
	}
	if rec.Status != batch.StatusDone || rec.CompletedAt.IsZero() {
		t.Errorf("after the child died: status %s, completed %v; want done with a completion time", rec.Status, rec.CompletedAt)
	}
}

func TestKilledHolderLockIsTakenOver(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	dead := killChild(t, "lock", path)
	s := mustOpenInternal(t, path, Options{})
	c, err := s.Counts(t.Context(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if c.Lock == nil || c.Lock.RunID != dead {
		t.Fatalf("lock after the kill = %+v, want held by the dead run %s", c.Lock, dead)
	}
	runID, err := s.BeginRun(t.Context(), RunInfo{})
	if err != nil {
		t.Fatalf("BeginRun did not take over a dead process's lock: %v", err)
	}
	if c, err = s.Counts(t.Context(), 0); err != nil {
		t.Fatal(err)
	}
	if c.Lock == nil || c.Lock.RunID != runID || c.Lock.PID != os.Getpid() {
		t.Errorf("lock after the takeover = %+v, want held by run %s of pid %d", c.Lock, runID, os.Getpid())
	}
}

// crashEvents are n events of name E, the first the i-th.
func crashEvents(i, n int) []batch.Event {
	out := make([]batch.Event, n)
	for j := range out {
		out[j] = batch.Event{ObjectID: "g", EventName: "E", Time: time.Unix(int64(i+j), 0).UTC(),
			EventPropsJSON: fmt.Sprintf(`{"i":%d}`, i+j), SessionPropsJSON: "{}"}
	}
	return out
}

// A run killed mid-export leaves no trace of the export in what OpenWork
// and the reports see, and the next export of the name holds its events
// once.
func TestKilledExportIsInvisibleAndNotDuplicated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ledger.db")
	s := mustOpenInternal(t, path, Options{})
	ctx := t.Context()
	runID, err := s.BeginRun(ctx, RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	imp, err := s.NewImporter(ctx, runID, crashManifest())
	if err != nil {
		t.Fatal(err)
	}
	if err := imp.Add(ctx, crashRequest(0)); err != nil {
		t.Fatal(err)
	}
	if _, err := imp.Finish(ctx, 1); err != nil {
		t.Fatal(err)
	}
	export := func(runID string, n int) {
		t.Helper()
		id, err := s.BeginEvents(ctx, runID, crashRequest(0).ID, "E")
		if err != nil {
			t.Fatal(err)
		}
		if err := s.AppendEvents(ctx, runID, []batch.EventPage{{Part: id, Events: crashEvents(0, n)}}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.FinishEvents(ctx, runID, []batch.EventExport{{RequestID: crashRequest(0).ID, EventName: "E",
			Expected: int64(n), Parts: []batch.EventPart{{ID: id}}}}); err != nil {
			t.Fatal(err)
		}
	}
	export(runID, 2)
	if err := s.EndRun(ctx, runID, "ok"); err != nil {
		t.Fatal(err)
	}

	killChild(t, "export", path) // writes 6 events of E into a part, then dies

	exported := `SELECT count(*) FROM access_events e JOIN access_event_parts p ON p.part_id = e.part_id WHERE p.exported`
	if got := countRows(t, s, "SELECT count(*) FROM access_events"); got != 8 {
		t.Fatalf("after the kill the ledger holds %d events, want the 2 exported and the 6 the child wrote", got)
	}
	if got := countRows(t, s, exported); got != 2 {
		t.Errorf("after the kill %d events are exported, want 2", got)
	}
	if got := countRows(t, s, "SELECT exported FROM access_event_names"); got != 2 {
		t.Errorf("after the kill the name records %d events, want 2", got)
	}
	runID, err = s.BeginRun(ctx, RunInfo{})
	if err != nil {
		t.Fatal(err)
	}
	export(runID, 7)
	if got := countRows(t, s, "SELECT count(*) FROM access_events"); got != 7 {
		t.Errorf("after exporting E again the ledger holds %d events, want 7", got)
	}
	if got := countRows(t, s, exported); got != 7 {
		t.Errorf("after exporting E again %d events are exported, want 7", got)
	}
}
