package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// A row whose email is one person's and whose user id is another's is a
// conflict, for access and deletion alike, through the real ledger: nothing
// is deleted or exported, both people's profiles stay, the run exits 3 and
// the detail names the field, never the values.
func TestRunMixedSubjectsAreConflicts(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 31, Profiles: 12, EventsPerProfile: 3})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	ps := subjects(ds, 0, 4)
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{
		{"D-mixed", "deletion", ps[0].Email, ps[1].Identity, ""},
		{"A-mixed", "access", ps[2].Email, ps[3].Identity, ""},
	})
	out := filepath.Join(dir, "out")
	before := map[string]int{}
	for _, p := range ps {
		ids, _ := groundTruth(t, sim, p.Email, p.Identity)
		before[p.Identity] = len(ids)
	}

	res := ctdsr(t, runArgs(sim, filepath.Join(dir, "l.db"), out, "--manifest", m)...)
	if res.code != ExitRowsFailed {
		t.Fatalf("want exit 3 (rows need review)\n%s", res)
	}
	o := readOutputs(t, out)
	for _, r := range o.Requests {
		if r.Status != "conflict" {
			t.Errorf("%s: %s (%s), want conflict", r.RequestID, r.Status, r.Detail)
		}
		if !strings.Contains(r.Detail, "email") && !strings.Contains(r.Detail, "user") {
			t.Errorf("%s: detail %q names neither field", r.RequestID, r.Detail)
		}
	}
	if len(o.Requests) != 2 {
		t.Errorf("%d request rows, want 2", len(o.Requests))
	}
	if n := sim.Stats().Calls["delete"]; n != 0 {
		t.Errorf("%d delete calls for conflicting rows, want 0", n)
	}
	if len(o.Events) != 0 || len(o.Profiles) != 0 {
		t.Errorf("a conflicting access row exported %d profiles and %d events, want none", len(o.Profiles), len(o.Events))
	}
	for _, p := range ps {
		if ids, _ := groundTruth(t, sim, p.Email, p.Identity); len(ids) != before[p.Identity] || len(ids) == 0 {
			t.Errorf("profile of subject %s: %d objectIds after the run, %d before", p.Identity, len(ids), before[p.Identity])
		}
	}
	for _, p := range ps {
		for _, v := range []string{p.Email, p.Identity} {
			if strings.Contains(res.stderr, v) {
				t.Errorf("the log names a subject's value %q", v)
			}
		}
	}
}

// An explicit --quota-share of 0 (or above 1) is a mistake in the command,
// not a run that stalls: exit 2 before any ledger exists.
func TestRunQuotaShareOutOfRange(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 32, Profiles: 2})
	sim := startSimServer(t, ds, ctsim.Options{})
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, deletionRows(subjects(ds, 0, 1)))
	for _, share := range []string{"0", "1.5", "-0.2"} {
		t.Run(share, func(t *testing.T) {
			state := filepath.Join(dir, "s"+share, "l.db")
			res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"+share), "--manifest", m,
				"--quota-share", share, "--quota-rps", "5")...)
			if res.code != ExitUsage || !strings.Contains(res.stderr, "quota share") {
				t.Errorf("want exit 2 naming the quota share\n%s", res)
			}
			if _, err := os.Stat(state); !os.IsNotExist(err) {
				t.Errorf("ledger %s exists after a usage error (%v)", state, err)
			}
		})
	}
	if n := sim.totalCalls(); n != 0 {
		t.Errorf("%d API calls, want 0", n)
	}
}

// --max-duration ends a slow run cleanly: what it did is committed and
// reported, the rest stays open for the next run (exit 3, outcome
// out_of_time), and a second run finishes it.
func TestRunMaxDuration(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 33, Profiles: 30, EventsPerProfile: 2})
	lat := 150 * time.Millisecond
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true,
		Latency: map[string]time.Duration{"profile": lat, "events": lat, "delete": lat}})
	ps := subjects(ds, 0, 20)
	var rows []manifestRow
	for i, p := range ps {
		rows = append(rows, manifestRow{fmt.Sprintf("A-%02d", i), "access", p.Email, p.Identity, ""})
	}
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, rows)
	state := filepath.Join(dir, "l.db")

	out1 := filepath.Join(dir, "out1")
	res := ctdsr(t, runArgs(sim, state, out1, "--manifest", m, "--max-duration", "1s")...)
	if res.code != ExitRowsFailed {
		t.Fatalf("run 1: want exit 3 (out of time)\n%s", res)
	}
	s := readSummary(t, out1)
	o := readOutputs(t, out1)
	done := 0
	for _, r := range o.Requests {
		if r.Status == "done" {
			done++
		}
	}
	if s.Outcome != "out_of_time" || len(o.Requests) != len(rows) || done == len(rows) {
		t.Fatalf("run 1: outcome %q, %d request rows (%d done); want out_of_time with all %d rows, some still open",
			s.Outcome, len(o.Requests), done, len(rows))
	}

	out2 := filepath.Join(dir, "out2")
	if res := ctdsr(t, runArgs(sim, state, out2)...); res.code != ExitOK {
		t.Fatalf("run 2: want exit 0\n%s", res)
	}
	for _, r := range readOutputs(t, out2).Requests {
		if r.Status != "done" {
			t.Errorf("after run 2, %s: %s (%s), want done", r.RequestID, r.Status, r.Detail)
		}
	}
}
