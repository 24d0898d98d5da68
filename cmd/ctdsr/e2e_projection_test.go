package main

import (
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch"
	"github.com/ctdsr/ctdsr/batch/manifest"
	"github.com/ctdsr/ctdsr/clevertap"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// The dry run's projection follows the real schedule (K calls in flight
// per group, the lookups every worker starts with, one filtered export per
// subject and event name, deletes batched, and with few workers the
// workers' own pace): against a simulator that takes 200 ms a call, it is
// within ±30 % of the time the same manifest then takes to carry out (the
// run's work_seconds: the ledger and the reports aside, which a projection
// of API time does not cover), at the command's defaults. (How few
// workers slow a run is in TestProjectionSchedule: it is arithmetic.)
//
// The latency is long so that the comparison is of the schedule, not of the
// machine: what the run does between calls (ledger writes, under the race
// detector) is small on a quiet machine (the ratio was the same at 80 and
// 200 ms) but grows with load, by an estimated 45 ms per call time with two
// other test runs beside it, which at 80 ms a call put a busy CI run at a
// ratio of 0.57; at 200 ms the ratio was 0.97 quiet and
// 0.94 beside two race-enabled test runs.
func TestDryRunProjectsTheRealRun(t *testing.T) {
	const lat = 200 * time.Millisecond
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 51, Profiles: 20, EventsPerProfile: 6})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true,
		Latency: map[string]time.Duration{"profile": lat, "events": lat, "delete": lat}})
	var rows []manifestRow
	for i, p := range subjects(ds, 0, 14) {
		typ := "access"
		if i%3 == 2 {
			typ = "deletion"
		}
		rows = append(rows, manifestRow{fmt.Sprintf("R-%02d", i), typ, p.Email, p.Identity, ""})
	}
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, rows)

	// The projection, as --dry-run makes it.
	client, err := clevertap.NewClient(clevertap.WithBaseURL(sim.URL),
		clevertap.WithCredentials(ctsim.DemoAccountID, ctsim.DemoPasscode))
	if err != nil {
		t.Fatal(err)
	}
	var reqs []batch.Request
	if _, err := manifest.Read(t.Context(), m, manifest.Options{}, func(r manifest.Row) error {
		if r.Request != nil {
			reqs = append(reqs, *r.Request)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	cfg := batch.DefaultConfig()
	res, err := batch.DryRun(t.Context(), client, reqs, cfg)
	if err != nil {
		t.Fatal(err)
	}
	measured := client.Stats().Latency(clevertap.GroupProfile)
	projected := res.Projection(client.PerGroup(), map[string]time.Duration{
		batch.GroupProfile: measured, batch.GroupEvents: measured, batch.GroupDelete: measured})

	// The real run, with the command's defaults (no in-run verification).
	res2 := ctdsr(t, "run", "--state", filepath.Join(dir, "l.db"), "--out", filepath.Join(dir, "out"),
		"--base-url", sim.URL, "--timezone", sim.Zone, "--manifest", m)
	if res2.code != ExitOK {
		t.Fatalf("run: %s", res2)
	}
	took := time.Duration(readSummary(t, filepath.Join(dir, "out")).Run.WorkSeconds * float64(time.Second))
	ratio := float64(projected) / float64(took)
	t.Logf("projected %v (calls %v at %v a call), took %v: ratio %.2f", projected, res.Calls, measured, took, ratio)
	if ratio < 0.7 || ratio > 1.3 {
		t.Errorf("projected %v for a run that took %v (ratio %.2f); want within ±30%%", projected, took, ratio)
	}
}
