package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// The kill tests run the real ctdsr binary as a subprocess against a
// simulator in the test process, kill it (SIGKILL, or SIGINT) part-way and
// resume it, and compare the outputs with those of an uninterrupted run.

var ctdsrBinary struct {
	once sync.Once
	dir  string
	path string
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if ctdsrBinary.dir != "" {
		os.RemoveAll(ctdsrBinary.dir)
	}
	os.Exit(code)
}

// buildCtdsr builds the ctdsr binary once per test binary, into a
// temporary directory TestMain removes.
func buildCtdsr(t *testing.T) string {
	t.Helper()
	b := &ctdsrBinary
	b.once.Do(func() {
		goTool, err := exec.LookPath("go")
		if err != nil {
			goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
		}
		if b.dir, b.err = os.MkdirTemp("", "ctdsr-e2e-"); b.err != nil {
			return
		}
		b.path = filepath.Join(b.dir, "ctdsr")
		args := []string{"build", "-o", b.path}
		if raceEnabled() {
			// Same flags as this test binary: the packages it compiled are
			// reused, and the subprocess runs under the race detector too.
			args = append(args, "-race")
		}
		out, err := exec.Command(goTool, append(args, ".")...).CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// raceEnabled reports whether this test binary was built with -race.
func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return false
	}
	for _, s := range bi.Settings {
		if s.Key == "-race" {
			return s.Value == "true"
		}
	}
	return false
}

// killScenario is one dataset and manifest, run as a subprocess.
type killScenario struct {
	t        *testing.T
	bin      string
	ds       *ctsim.Dataset
	manifest string
	access   map[string]ctsim.Profile
}

func newKillScenario(t *testing.T) *killScenario {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 21, Profiles: 40, EventsPerProfile: 6})
	ps := subjects(ds, 0, 24)
	k := &killScenario{t: t, bin: buildCtdsr(t), ds: ds, access: map[string]ctsim.Profile{}}
	var rows []manifestRow
	for i, p := range ps[:14] {
		id := fmt.Sprintf("A-%02d", i)
		k.access[id] = p
		switch i % 3 {
		case 0:
			rows = append(rows, manifestRow{id, "access", p.Email, p.Identity, "2026-01-05"})
		case 1:
			rows = append(rows, manifestRow{id, "access", p.Email, "", ""})
		default:
			rows = append(rows, manifestRow{id, "access", "", p.Identity, ""})
		}
	}
	for i, p := range ps[14:] {
		email, ident := p.Email, p.Identity
		if i%3 == 1 {
			ident = ""
		}
		rows = append(rows, manifestRow{fmt.Sprintf("D-%02d", i), "deletion", email, ident, "2026-01-06"})
	}
	rows = append(rows,
		manifestRow{"N-01", "access", "nobody.1@example.com", "", ""},
		manifestRow{"N-02", "deletion", "", "u-777777", ""},
		manifestRow{"X-01", "refund", "z@example.com", "", ""},
		manifestRow{"X-02", "deletion", "", "", ""},
	)
	k.manifest = writeManifestCSV(t, t.TempDir(), rows)
	return k
}

// sim starts a fresh simulator of the scenario's dataset, slow enough that
// a run takes a while: a few milliseconds per call and group.
func (k *killScenario) sim() *simServer {
	return startSimServer(k.t, k.ds, ctsim.Options{
		NoDeletionDelay: true,
		Latency:         map[string]time.Duration{"profile": 6 * time.Millisecond, "events": 10 * time.Millisecond, "delete": 6 * time.Millisecond},
	})
}

// proc is one ctdsr subprocess.
type proc struct {
	cmd    *exec.Cmd
	done   chan struct{}
	err    error
	stderr string // file
}

func (k *killScenario) start(sim *simServer, dir string) *proc {
	k.t.Helper()
	args := []string{"run", "--manifest", k.manifest, "--state", filepath.Join(dir, "ledger.db"), "--out", filepath.Join(dir, "out"),
		"--base-url", sim.URL, "--timezone", ctsim.DefaultTimezone, "--verify-first", "100ms", "--verify-window", "10s", "--log-format", "json", "--progress-every", "1s"}
	cmd := exec.Command(k.bin, args...)
	cmd.Env = append(os.Environ(), "CLEVERTAP_ACCOUNT_ID="+ctsim.DemoAccountID, "CLEVERTAP_PASSCODE="+ctsim.DemoPasscode)
	p := &proc{cmd: cmd, done: make(chan struct{}), stderr: filepath.Join(dir, fmt.Sprintf("stderr-%d.log", time.Now().UnixNano()))}
	f, err := os.Create(p.stderr)
	if err != nil {
		k.t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		k.t.Fatal(err)
	}
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	k.t.Cleanup(func() {
		cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to end and returns its exit code (-1 when a
// signal ended it).
func (p *proc) wait(t *testing.T) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(60 * time.Second):
		t.Fatalf("ctdsr did not finish within a minute\n%s", p.log())
	}
	if p.err == nil {
		return 0
	}
	var ee *exec.ExitError
	if !errors.As(p.err, &ee) {
		t.Fatalf("ctdsr: %v", p.err)
	}
	return ee.ExitCode()
}

func (p *proc) log() string {
	b, _ := os.ReadFile(p.stderr)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// runToEnd runs ctdsr to completion and returns its exit code.
func (k *killScenario) runToEnd(sim *simServer, dir string) int {
	p := k.start(sim, dir)
	code := p.wait(k.t)
	if code != ExitRowsFailed {
		k.t.Fatalf("ctdsr exited %d, want 3 (rows rejected)\n%s", code, p.log())
	}
	return code
}

// interruptAt starts ctdsr and sends sig once the simulator has answered
// calls API calls. It reports the exit code.
func (k *killScenario) interruptAt(sim *simServer, dir string, calls int64, sig os.Signal) int {
	k.t.Helper()
	p := k.start(sim, dir)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for sim.totalCalls() < calls {
		select {
		case <-p.done:
			k.t.Fatalf("ctdsr finished after %d calls, before the %d to interrupt it at\n%s", sim.totalCalls(), calls, p.log())
		case <-tick.C:
		}
	}
	if err := p.cmd.Process.Signal(sig); err != nil {
		k.t.Fatal(err)
	}
	code := p.wait(k.t)
	if sig == syscall.SIGKILL {
		if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
			k.t.Fatalf("ctdsr was not killed (exit %d): it finished first\n%s", code, p.log())
		}
	}
	return code
}

// checkNoDuplicates fails if any request's events repeat.
func checkNoDuplicates(t *testing.T, o outputs) {
	t.Helper()
	seen := map[string]bool{}
	for _, e := range o.Events {
		key := e.RequestID + "|" + eventKey(e.ObjectID, e.EventName, e.EventTime, e.EventPropsJSON, e.SessionPropsJSON)
		if seen[key] {
			t.Errorf("duplicate event in %s: %s", e.RequestID, key)
		}
		seen[key] = true
	}
}

// TestKillAndResume kills `ctdsr run` (SIGKILL: no deferred code, no
// flush) after about 20 %, 50 %, 80 % and 90 % (verification under way) of
// an uninterrupted run's API calls, resumes it with the same arguments, and requires the same five
// Parquet files as the uninterrupted run against a fresh simulator,
// except for the columns that say when. SIGINT exits 130 with reports for
// what is done, and a rerun completes the work.
func TestKillAndResume(t *testing.T) {
	if testing.Short() {
		t.Skip("builds ctdsr and runs it several times")
	}
	t.Parallel()
	k := newKillScenario(t)

	// The uninterrupted run, checked against the simulator's ground truth.
	sim := k.sim()
	truth := map[string][]string{}
	for id, p := range k.access {
		_, evs := groundTruth(t, sim, p.Email, p.Identity)
		truth[id] = evs
	}
	dir := t.TempDir()
	k.runToEnd(sim, dir)
	want := readOutputs(t, filepath.Join(dir, "out"))
	total := sim.totalCalls()
	got := map[string][]string{}
	for _, e := range want.Events {
		got[e.RequestID] = append(got[e.RequestID], eventKey(e.ObjectID, e.EventName, e.EventTime, e.EventPropsJSON, e.SessionPropsJSON))
	}
	for id, evs := range truth {
		if g := slices.Sorted(slices.Values(got[id])); !slices.Equal(g, evs) {
			t.Errorf("uninterrupted run: %s has %d events, ground truth %d", id, len(g), len(evs))
		}
	}
	checkNoDuplicates(t, want)
	st := statusesOf(want.Requests)
	if st["access"]["done"] != 14 || st["deletion"]["verified"] != 10 || len(want.Rejects) != 2 {
		t.Fatalf("uninterrupted run: statuses %v, %d rejects", st, len(want.Rejects))
	}
	t.Logf("uninterrupted run: %d API calls, %d events", total, len(want.Events))

	for _, pct := range []int64{20, 50, 80, 90} {
		t.Run(fmt.Sprintf("sigkill_at_%d%%", pct), func(t *testing.T) {
			k := *k
			k.t = t
			sim := k.sim()
			dir := t.TempDir()
			k.interruptAt(sim, dir, total*pct/100, syscall.SIGKILL)
			killedAt := sim.totalCalls()
			k.runToEnd(sim, dir)
			o := readOutputs(t, filepath.Join(dir, "out"))
			diffOutputs(t, o, want)
			checkNoDuplicates(t, o)
			t.Logf("killed after %d calls; %d calls in all", killedAt, sim.totalCalls())
			res := ctdsr(t, "status", "--state", filepath.Join(dir, "ledger.db"))
			if res.code != ExitOK || !strings.Contains(res.stdout, "2 run(s)") || !strings.Contains(res.stdout, "open 0;") {
				t.Errorf("status after the resumed run: %s", res)
			}
		})
	}

	// The narrowest window: CleverTap carried the delete out, and the
	// process dies before the reply reaches it. The resumed run must send
	// the recorded plan again, not look the (now gone) subject up afresh.
	t.Run("sigkill_after_delete_accepted", func(t *testing.T) {
		k := *k
		k.t = t
		sim := k.sim()
		accepted := make(chan struct{})
		var once sync.Once
		hook := func(r *http.Request) {
			once.Do(func() { close(accepted) })
			<-r.Context().Done() // until the client is gone
		}
		sim.afterDelete.Store(&hook)
		dir := t.TempDir()
		p := k.start(sim, dir)
		select {
		case <-accepted:
		case <-p.done:
			t.Fatalf("ctdsr finished without deleting\n%s", p.log())
		case <-time.After(30 * time.Second):
			t.Fatal("no delete call within 30s")
		}
		if len(sim.PendingDeletions()) != 0 || sim.Stats().DeleteCalls == 0 {
			t.Fatalf("the delete was not carried out")
		}
		p.cmd.Process.Kill()
		p.wait(t)
		sim.afterDelete.Store(nil)
		k.runToEnd(sim, dir)
		o := readOutputs(t, filepath.Join(dir, "out"))
		diffOutputs(t, o, want)
		checkNoDuplicates(t, o)
	})

	t.Run("sigint", func(t *testing.T) {
		k := *k
		k.t = t
		sim := k.sim()
		dir := t.TempDir()
		if code := k.interruptAt(sim, dir, total/2, os.Interrupt); code != ExitInterrupted {
			t.Fatalf("SIGINT: exit %d, want 130", code)
		}
		out := filepath.Join(dir, "out")
		s := readSummary(t, out)
		part := readOutputs(t, out)
		if s.Outcome != "interrupted" || len(part.Requests) != len(want.Requests) || len(part.Rejects) != len(want.Rejects) {
			t.Errorf("after SIGINT: outcome %q, %d requests, %d rejects", s.Outcome, len(part.Requests), len(part.Rejects))
		}
		finished := 0
		for _, r := range part.Requests {
			if r.Status != "pending" && r.Status != "submitted" {
				finished++
			}
		}
		if finished == 0 || finished == len(part.Requests) {
			t.Errorf("after SIGINT %d of %d requests finished; want some but not all", finished, len(part.Requests))
		}
		checkNoDuplicates(t, part)
		k.runToEnd(sim, dir)
		o := readOutputs(t, out)
		diffOutputs(t, o, want)
		checkNoDuplicates(t, o)
	})
}
