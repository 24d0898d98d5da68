package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// An account in India (the demo dataset's) writes event times in IST.
// Run 1, without --timezone, stops before writing any event and says which
// zone to pass; run 2 with it exports every event at its true instant and
// the ledger remembers the zone; run 3 needs no flag; a --timezone the
// data contradicts on that ledger is a usage error; a --timezone the data
// agrees with (another zone at the same offset) is accepted, and the ledger
// remembers it from then on.
func TestRunTimezoneFromTheData(t *testing.T) {
	ds, err := ctsim.DemoDataset()
	if err != nil {
		t.Fatal(err)
	}
	if ds.Account.Timezone != "Asia/Kolkata" {
		t.Fatalf("the demo account's timezone is %q, want Asia/Kolkata", ds.Account.Timezone)
	}
	sim := startSimServer(t, ds, ctsim.Options{})
	sim.Zone = "" // runs say --timezone only where this test does
	ps := subjects(ds, 0, 5)
	dir := t.TempDir()
	m1 := writeManifestCSV(t, dir, []manifestRow{
		{"A-1", "access", ps[0].Email, "", ""},
		{"A-2", "access", ps[1].Email, ps[1].Identity, ""},
	})
	state := filepath.Join(dir, "ledger.db")

	res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out1"), "--manifest", m1)...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, "+05:30") || !strings.Contains(res.stderr, "--timezone Asia/Kolkata") {
		t.Fatalf("run 1 without --timezone: want exit 1 naming +05:30 and --timezone Asia/Kolkata\n%s", res)
	}
	if o := readOutputs(t, filepath.Join(dir, "out1")); len(o.Events) != 0 || len(o.Profiles) != 0 {
		t.Errorf("run 1 wrote %d events and %d profiles, want none", len(o.Events), len(o.Profiles))
	}

	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out2"), "--timezone", "Asia/Kolkata")...)
	if res.code != ExitOK {
		t.Fatalf("run 2 with --timezone Asia/Kolkata: want exit 0\n%s", res)
	}
	o2 := readOutputs(t, filepath.Join(dir, "out2"))
	checkEventsTrue(t, sim, o2, "A-1", ps[0].Email, "")
	checkEventsTrue(t, sim, o2, "A-2", ps[1].Email, ps[1].Identity)
	if s := readSummary(t, filepath.Join(dir, "out2")); s.Zone.Zone != "Asia/Kolkata" || s.Zone.Agreeing == 0 || s.Zone.Other != 0 {
		t.Errorf("run 2 summary timezone evidence %+v", s.Zone)
	}

	m2 := filepath.Join(dir, "m2")
	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out3"), "--manifest",
		writeManifestCSV(t, mkdir(t, m2), []manifestRow{{"A-3", "access", ps[2].Email, "", ""}}))...)
	if res.code != ExitOK {
		t.Fatalf("run 3 on the same ledger without --timezone: want exit 0 (the ledger remembers the zone)\n%s", res)
	}
	checkEventsTrue(t, sim, readOutputs(t, filepath.Join(dir, "out3")), "A-3", ps[2].Email, "")

	m3 := filepath.Join(dir, "m3")
	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out4"), "--timezone", "UTC", "--manifest",
		writeManifestCSV(t, mkdir(t, m3), []manifestRow{{"A-4", "access", ps[3].Email, "", ""}}))...)
	if res.code != ExitUsage || !strings.Contains(res.stderr, "remembers --timezone Asia/Kolkata") {
		t.Errorf("run 4 with a --timezone the data contradicts: want exit 2 naming the remembered zone\n%s", res)
	}

	m5 := filepath.Join(dir, "m5")
	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out5"), "--timezone", "Asia/Colombo", "--manifest",
		writeManifestCSV(t, mkdir(t, m5), []manifestRow{{"A-5", "access", ps[4].Email, "", ""}}))...)
	if res.code != ExitOK {
		t.Fatalf("run 5 with --timezone Asia/Colombo (+05:30 as well): want exit 0\n%s", res)
	}
	checkEventsTrue(t, sim, readOutputs(t, filepath.Join(dir, "out5")), "A-5", ps[4].Email, "")
	if s := readSummary(t, filepath.Join(dir, "out5")); s.Zone.Zone != "Asia/Colombo" || s.Zone.Agreeing == 0 || s.Zone.Other != 0 {
		t.Errorf("run 5 summary timezone evidence %+v", s.Zone)
	}
	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out6"))...)
	if res.code != ExitOK || !strings.Contains(res.stderr, "timezone=Asia/Colombo") {
		t.Errorf("run 6 without --timezone: want exit 0 and the zone run 5 confirmed, Asia/Colombo\n%s", res)
	}
}

// checkEventsTrue checks that request id's exported events are those of
// every profile the simulator holds for its email or identity, each at the
// instant the simulator holds.
func checkEventsTrue(t *testing.T, sim *simServer, o outputs, id, email, identity string) {
	t.Helper()
	ids, _ := groundTruth(t, sim, email, identity)
	want := map[string]int{}
	for _, e := range sim.EventsOf(ids...) {
		want[e.ObjectID+" "+e.Name+" "+e.Time.UTC().Format("2006-01-02T15:04:05Z")]++
	}
	got := map[string]int{}
	for _, e := range o.Events {
		if e.RequestID == id {
			got[e.ObjectID+" "+e.EventName+" "+e.EventTime.UTC().Format("2006-01-02T15:04:05Z")]++
		}
	}
	if len(want) == 0 {
		t.Fatalf("%s: the subject has no events; pick another", id)
	}
	for k, n := range want {
		if got[k] != n {
			t.Errorf("%s: event %s exported %d times, want %d (times must be the true instants)", id, k, got[k], n)
		}
	}
	for k := range got {
		if want[k] == 0 {
			t.Errorf("%s: exported event %s the simulator does not hold at that instant", id, k)
		}
	}
}
