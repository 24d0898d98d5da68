package main

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// The temporary files a killed report write left in --out (named as the
// writers name theirs: "." + target + "." + digits + ".tmp", next to the
// target; the workbook's is a directory) are removed by the next run's
// write; files that only look alike, and everything else there, stay.
func TestRunRemovesLeftoverTemporaries(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 43, Profiles: 6, EventsPerProfile: 2})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	p := subjects(ds, 0, 1)[0]
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{{"A-1", "access", p.Email, p.Identity, ""}})
	out := filepath.Join(dir, "out")
	access := mkdir(t, filepath.Join(out, report.PackagesDir))

	plant := func(path string) string {
		t.Helper()
		if err := os.WriteFile(path, []byte("partial"), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	leftovers := []string{
		plant(filepath.Join(out, "."+report.RequestsFile+".123456789.tmp")),
		plant(filepath.Join(out, "."+report.RejectsFile+".1.tmp")),
		plant(filepath.Join(out, "."+report.SummaryFile+".42.tmp")),
		plant(filepath.Join(out, "."+report.WorkbookFile+".778.tmp")),
		plant(filepath.Join(access, ".A-1.zip.99.tmp")),
		plant(filepath.Join(access, ".OLD-7.zip.3.tmp")),
		plant(filepath.Join(access, "."+report.PackageSumsFile+".5.tmp")),
	}
	// The workbook is built in a temporary directory of its own.
	wbTmp := mkdir(t, filepath.Join(out, "."+report.WorkbookFile+".777.tmp"))
	plant(filepath.Join(wbTmp, "workbook-1.xlsx"))
	leftovers = append(leftovers, wbTmp,
		plant(filepath.Join(access, "keep.zip"))) // a package no longer selected: access/ holds this render's only

	others := []string{
		plant(filepath.Join(out, "notes.txt")),
		plant(filepath.Join(out, ".notes.txt.1.tmp")),                      // not a report's name
		plant(filepath.Join(out, "."+report.RequestsFile+".abc.tmp")),      // not digits
		plant(filepath.Join(out, "."+report.RequestsFile+".1.tmp.bak")),    // another suffix
		plant(filepath.Join(out, report.RequestsFile+".1.tmp")),            // no leading dot
		plant(filepath.Join(out, ".A-1.zip.1.tmp")),                        // a package's name, outside access/
		plant(filepath.Join(access, ".notes.txt.1.tmp")),                   // not a package's name
		plant(filepath.Join(access, "."+report.RequestsFile+".1.tmp")),     // a report's name, inside access/
		plant(filepath.Join(access, "notes.txt")),                          // not a package's name
		mkdir(t, filepath.Join(out, "."+report.EventsFile+".9.tmp")),       // a directory: only the workbook's is ours
		plant(filepath.Join(out, "."+report.EventsFile+".9.tmp", "inner")), // inside it
	}

	res := ctdsr(t, runArgs(sim, filepath.Join(dir, "l.db"), out, "--manifest", m)...)
	if res.code != ExitOK {
		t.Fatalf("run: want exit 0\n%s", res)
	}
	for _, path := range leftovers {
		if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("leftover %s is still there (%v)", path, err)
		}
	}
	for _, path := range others {
		if _, err := os.Lstat(path); err != nil {
			t.Errorf("%s was removed: %v", path, err)
		}
	}
	// The reports themselves are in place.
	if o := readOutputs(t, out); len(o.Requests) != 1 || o.Requests[0].Status != "done" {
		t.Errorf("requests.parquet: %s", show(o.Requests))
	}
	if _, err := os.Stat(filepath.Join(access, "A-1.zip")); err != nil {
		t.Errorf("no access package: %v", err)
	}
}
