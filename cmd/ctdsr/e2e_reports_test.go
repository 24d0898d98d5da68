package main

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// The README's cron pair: a nightly run with the day's manifest, and an
// hourly run without one into reports/latest. The hourly run, with nothing
// to do, writes the same reports as the nightly one (times aside), and a
// run after a failed report write restores all of them from the ledger.
func TestReportsAreViewsOfTheLedger(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 31, Profiles: 12, EventsPerProfile: 4})
	sim := startSimServer(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour})
	ps := subjects(ds, 0, 4)
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{
		{"A-1", "access", ps[0].Email, "", ""}, {"A-2", "access", ps[1].Email, ps[1].Identity, ""},
		{"D-1", "deletion", ps[2].Email, ps[2].Identity, ""}, {"B-1", "refund", ps[3].Email, "", ""},
	})
	state := filepath.Join(dir, "state", "ledger.db")
	nightly, latest := filepath.Join(dir, "reports", "2026-11-30"), filepath.Join(dir, "reports", "latest")
	// The first verification is due in an hour: neither run makes one, so
	// the hourly run has nothing to do.
	if res := ctdsr(t, runArgs(sim, state, nightly, "--manifest", m, "--verify-first", "1h")...); res.code != ExitRowsFailed {
		t.Fatalf("nightly run: want exit 3 (a reject)\n%s", res)
	}
	if res := ctdsr(t, runArgs(sim, state, latest, "--verify-first", "1h")...); res.code != ExitOK {
		t.Fatalf("hourly run: want exit 0\n%s", res)
	}
	want := readOutputs(t, nightly)
	if len(want.Requests) != 3 || len(want.Rejects) != 1 || len(want.Events) == 0 {
		t.Fatalf("nightly reports: %d requests, %d rejects, %d events", len(want.Requests), len(want.Rejects), len(want.Events))
	}
	diffOutputs(t, readOutputs(t, latest), want)
	s := readSummary(t, latest)
	if s.Ledger.Open != 1 || s.Ledger.Requests != 3 || s.Reports.Requests != 3 {
		t.Errorf("hourly summary: ledger %+v, reports %d requests; want 3 requests, 1 open (the deletion)", s.Ledger, s.Reports.Requests)
	}

	// A report write that fails (requests.parquet cannot be replaced: a
	// directory stands in its place), then a run without a manifest.
	broken := filepath.Join(dir, "reports", "broken")
	if err := os.MkdirAll(filepath.Join(broken, report.RequestsFile, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	sim.Advance(time.Hour)
	if res := ctdsr(t, runArgs(sim, state, broken)...); res.code != ExitFatal {
		t.Fatalf("run whose reports cannot be written: want exit 1\n%s", res)
	}
	if err := os.RemoveAll(filepath.Join(broken, report.RequestsFile)); err != nil {
		t.Fatal(err)
	}
	if res := ctdsr(t, runArgs(sim, state, broken)...); res.code != ExitOK {
		t.Fatalf("the next run: want exit 0\n%s", res)
	}
	diffOutputs(t, readOutputs(t, broken), want)
	if entries, _ := filepath.Glob(filepath.Join(broken, ".*.tmp")); len(entries) != 0 {
		t.Errorf("temporary files left in the reports: %v", entries)
	}
}

// report.xlsx, the access packages and the summary chain, as a compliance
// team receives them; verify-reports catches a tampered file; `ctdsr
// report` renders any selection; purge leaves the evidence only.
func TestReportsForPeople(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 32, Profiles: 10, EventsPerProfile: 5})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	ps := subjects(ds, 0, 3)
	dir := t.TempDir()
	hostile := "../../etc/passwd"
	m := writeManifestCSV(t, dir, []manifestRow{
		{"=HYPERLINK(\"http://x\")", "access", ps[0].Email, "", ""},
		{hostile, "access", ps[1].Email, "", ""},
		{"D-1", "deletion", ps[2].Email, ps[2].Identity, ""},
	})
	state, out := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "out")
	if res := ctdsr(t, runArgs(sim, state, out, "--manifest", m)...); res.code != ExitOK {
		t.Fatalf("run: want exit 0\n%s", res)
	}
	o := readOutputs(t, out)

	// The workbook: a sheet per kind, the formula-looking id kept as text.
	f, err := excelize.OpenFile(filepath.Join(out, report.WorkbookFile))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); strings.Join(got, ",") != "Summary,Requests,Deletions,Rejects" {
		t.Errorf("workbook sheets %v", got)
	}
	rows, err := f.GetRows("Requests")
	if err != nil || len(rows) != 1+len(o.Requests) {
		t.Fatalf("Requests sheet: %d rows (%v), want a header and %d", len(rows), err, len(o.Requests))
	}
	found := false
	for i := range rows[1:] {
		cell := "A" + string(rune('2'+i))
		if v, _ := f.GetCellValue("Requests", cell); strings.HasPrefix(v, "=") {
			found = true
			if formula, _ := f.GetCellFormula("Requests", cell); formula != "" {
				t.Errorf("%s holds the formula %q; data must stay text", cell, formula)
			}
		}
	}
	if !found {
		t.Error("the formula-looking request id is not in the Requests sheet as text")
	}

	// One package per finished access request, named safely, holding
	// exactly that request's events.
	entries, err := os.ReadDir(filepath.Join(out, report.PackagesDir))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 3 { // two packages and SHA256SUMS
		t.Fatalf("access/ holds %d entries, want 2 packages and %s", len(entries), report.PackageSumsFile)
	}
	name := report.PackageName(hostile)
	if strings.ContainsAny(name, "/\\") || strings.HasPrefix(name, ".") {
		t.Errorf("package name %q of a hostile request id is not safe", name)
	}
	want := 0
	for _, e := range o.Events {
		if e.RequestID == hostile {
			want++
		}
	}
	zr, err := zip.OpenReader(filepath.Join(out, report.PackagesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		switch zf.Name {
		case report.EventsCSVFile:
			recs, err := csv.NewReader(rc).ReadAll()
			if err != nil || len(recs)-1 != want {
				t.Errorf("events.csv: %d events (%v), want %d as in access_events.parquet", len(recs)-1, err, want)
			}
		case report.EventsJSONFile:
			var evs []json.RawMessage
			if err := json.NewDecoder(rc).Decode(&evs); err != nil || len(evs) != want {
				t.Errorf("events.json: %d events (%v), want %d", len(evs), err, want)
			}
		}
		io.Copy(io.Discard, rc)
		rc.Close()
	}

	// The summary lists every file; a changed byte is caught.
	if res := ctdsr(t, "verify-reports", out, "--state", state); res.code != ExitOK {
		t.Fatalf("verify-reports of untouched reports: want exit 0\n%s", res)
	}
	pkg := filepath.Join(out, report.PackagesDir, name)
	orig, err := os.ReadFile(pkg)
	if err != nil {
		t.Fatal(err)
	}
	b := slices.Clone(orig)
	b[len(b)/2] ^= 0xff
	if err := os.WriteFile(pkg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ctdsr(t, "verify-reports", out); res.code != ExitRowsFailed || !strings.Contains(res.stdout, name) {
		t.Errorf("verify-reports of a tampered package: want exit 3 naming it\n%s", res)
	}
	// The next run's summary names this one's.
	first := readSummary(t, out)
	out2 := filepath.Join(dir, "out2")
	if res := ctdsr(t, runArgs(sim, state, out2)...); res.code != ExitOK {
		t.Fatalf("second run: %s", res)
	}
	if s := readSummary(t, out2); s.PreviousRunID != first.RunID || s.PreviousSummarySHA256 == "" {
		t.Errorf("second summary names the previous one as %q/%q, want run %s", s.PreviousRunID, s.PreviousSummarySHA256, first.RunID)
	}
	if res := ctdsr(t, "verify-reports", out2, "--state", state); res.code != ExitOK {
		t.Errorf("verify-reports of the second run with the ledger: want exit 0\n%s", res)
	}

	// ctdsr report renders a selection without calling CleverTap.
	calls := sim.HTTP.Load()
	one := filepath.Join(dir, "one")
	if res := ctdsr(t, "report", "--state", state, "--out", one, "--request-id", "D-1"); res.code != ExitOK {
		t.Fatalf("report --request-id D-1: %s", res)
	}
	if r := readOutputs(t, one).Requests; len(r) != 1 || r[0].RequestID != "D-1" {
		t.Errorf("report --request-id D-1 holds %d requests", len(r))
	}
	if sim.HTTP.Load() != calls {
		t.Error("ctdsr report called CleverTap")
	}

	// Reports written again into the tampered directory: the package is
	// rendered afresh from the ledger, never kept from disk (its changed
	// digest would go into SHA256SUMS as genuine).
	if res := ctdsr(t, "report", "--state", state, "--out", out, "--all"); res.code != ExitOK {
		t.Fatalf("report --all into the tampered directory: %s", res)
	}
	if got, _ := os.ReadFile(pkg); !bytes.Equal(got, orig) {
		t.Errorf("after the reports were written again, %s is still the tampered one; want it rendered from the ledger", name)
	}
	// A `ctdsr report` render belongs to no run: verify-reports says so,
	// and with the ledger checks the packages against it.
	if res := ctdsr(t, "verify-reports", out); res.code != ExitOK || !strings.Contains(res.stdout, "'ctdsr report' render") {
		t.Errorf("verify-reports of a report render: want exit 0 calling it a 'ctdsr report' render\n%s", res)
	}
	if res := ctdsr(t, "verify-reports", out, "--state", state); res.code != ExitOK || !strings.Contains(res.stdout, "match the ledger") {
		t.Errorf("verify-reports --state of a report render: want exit 0, the packages matching the ledger\n%s", res)
	}
	// A package whose digest was listed anew is caught by the ledger.
	sums := filepath.Join(out, report.PackagesDir, report.PackageSumsFile)
	sumsBefore, _ := os.ReadFile(sums)
	if err := os.WriteFile(pkg, b, 0o600); err != nil {
		t.Fatal(err)
	}
	digest, _ := report.SHA256File(pkg)
	origDigest := fmt.Sprintf("%x", sha256.Sum256(orig))
	if err := os.WriteFile(sums, bytes.ReplaceAll(sumsBefore, []byte(origDigest), []byte(digest)), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ctdsr(t, "verify-reports", out, "--state", state); res.code != ExitRowsFailed || !strings.Contains(res.stdout, "rendered from the ledger") {
		t.Errorf("verify-reports --state of a package re-listed with its changed digest: want exit 3\n%s", res)
	}

	// access/ holds exactly the packages of the last render: those of
	// requests it did not select go, as do leftovers of killed writes;
	// what these reports never write is left alone.
	access := filepath.Join(out, report.PackagesDir)
	for _, f := range []string{"Z-9.zip", ".Z-9.zip.123.tmp", "notes.txt"} {
		if err := os.WriteFile(filepath.Join(access, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	if res := ctdsr(t, "report", "--state", state, "--out", out, "--request-id", "D-1"); res.code != ExitOK {
		t.Fatalf("report --request-id D-1 into the reports of every request: %s", res)
	}
	if got := dirNames(t, access); strings.Join(got, ",") != report.PackageSumsFile+",notes.txt" {
		t.Errorf("access/ after a render of the deletion alone holds %v; want only %s (and notes.txt, not ours)", got, report.PackageSumsFile)
	}
	if res := ctdsr(t, "verify-reports", out, "--state", state); res.code != ExitOK {
		t.Errorf("verify-reports --state after a narrower render: want exit 0\n%s", res)
	}
	// A package nobody listed is caught.
	stray := filepath.Join(access, "Z-9.zip")
	if err := os.WriteFile(stray, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	if res := ctdsr(t, "verify-reports", out); res.code != ExitRowsFailed || !strings.Contains(res.stdout, "Z-9.zip: not listed") {
		t.Errorf("verify-reports with a package SHA256SUMS does not list: want exit 3 naming it\n%s", res)
	}
	if err := os.Remove(stray); err != nil {
		t.Fatal(err)
	}

	// Purge: the personal data go, the evidence stays.
	if res := ctdsr(t, "purge", "--state", state, "--closed-before", time.Now().Add(time.Hour).UTC().Format(time.RFC3339)); res.code != ExitOK {
		t.Fatalf("purge: %s", res)
	}
	purged := filepath.Join(dir, "purged")
	if res := ctdsr(t, "report", "--state", state, "--out", purged, "--all"); res.code != ExitOK {
		t.Fatalf("report --all after purge: %s", res)
	}
	// Rendered again into a directory that held packages, the purged
	// requests' packages go: no personal data stays on disk.
	if n := len(dirNames(t, filepath.Join(out2, report.PackagesDir))); n != 3 {
		t.Fatalf("access/ of the second run holds %d entries, want 2 packages and %s", n, report.PackageSumsFile)
	}
	if res := ctdsr(t, "report", "--state", state, "--out", out2, "--all"); res.code != ExitOK {
		t.Fatalf("report --all after purge into the second run's reports: %s", res)
	}
	if got := dirNames(t, filepath.Join(out2, report.PackagesDir)); strings.Join(got, ",") != report.PackageSumsFile {
		t.Errorf("access/ after purge holds %v; want only %s, empty", got, report.PackageSumsFile)
	}
	if b, err := os.ReadFile(filepath.Join(out2, report.PackagesDir, report.PackageSumsFile)); err != nil || len(b) != 0 {
		t.Errorf("%s after purge: %q (%v); want it empty", report.PackageSumsFile, b, err)
	}
	if res := ctdsr(t, "verify-reports", out2, "--state", state); res.code != ExitOK {
		t.Errorf("verify-reports --state after purge: want exit 0\n%s", res)
	}
	po := readOutputs(t, purged)
	if len(po.Requests) != 3 || len(po.Profiles) != 0 || len(po.Events) != 0 {
		t.Errorf("after purge: %d requests, %d profiles, %d events; want 3, 0, 0", len(po.Requests), len(po.Profiles), len(po.Events))
	}
	for _, r := range po.Requests {
		if r.Email != "" || r.UserID != "" || !strings.Contains(r.Detail, "email SHA-256") {
			t.Errorf("purged request %s: email %q, user id %q, detail %q; want only the evidence", r.RequestID, r.Email, r.UserID, r.Detail)
		}
	}
	for _, d := range po.Deletions {
		if len(d.ObjectIDs) == 0 {
			t.Errorf("purged deletion %s lost its objectIds, which are the evidence", d.RequestID)
		}
	}
}

// dirNames lists the names in dir, sorted.
func dirNames(t testing.TB, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(entries))
	for _, e := range entries {
		names = append(names, e.Name())
	}
	slices.Sort(names)
	return names
}
