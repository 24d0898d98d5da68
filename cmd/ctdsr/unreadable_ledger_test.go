package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// unreadableManifests are manifests `run` and `load` must refuse before
// they create a ledger: each case gives the manifest arguments and the
// file the error must name.
func unreadableManifests(t *testing.T) []struct {
	name  string
	args  []string
	names string
} {
	t.Helper()
	dir := t.TempDir()
	file := func(name, content string) string {
		t.Helper()
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	good := file("good.csv", "request_id,request_type,email\nA-1,access,a@example.com\n")
	noColumn := file("no-column.csv", "ticket,name\nT-1,someone\n")
	unknownType := file("unknown.csv", "request_id,request_type,email\n") // header only: no data rows
	notXLSX := file("not.xlsx", "this is not a workbook\n")
	zipNotXLSX := file("zip.xlsx", "PK\x03\x04 a broken zip")
	notParquet := file("not.parquet", "PAR1 garbage, no footer PAR1")
	xlsxNoColumn := filepath.Join(dir, "no-column.xlsx")
	if err := manifesttest.WriteXLSX(xlsxNoColumn, manifesttest.Workbook{Sheets: []manifesttest.Sheet{{
		Name: "Requests", Rows: [][]any{{"Ticket", "Name"}, {"T-1", "someone"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	xlsxGood := filepath.Join(dir, "good.xlsx")
	if err := manifesttest.WriteXLSX(xlsxGood, manifesttest.Workbook{Sheets: []manifesttest.Sheet{{
		Name: "Requests", Rows: [][]any{{"request_id", "request_type", "email"}, {"X-1", "access", "x@example.com"}},
	}}}); err != nil {
		t.Fatal(err)
	}
	pqNoColumn := filepath.Join(dir, "no-column.parquet")
	if err := manifesttest.WriteParquet(pqNoColumn, []manifesttest.Column{{Name: "request_id", Node: manifesttest.String}},
		[][]any{{"P-1"}}, 0); err != nil {
		t.Fatal(err)
	}
	pqBadType := filepath.Join(dir, "bad-type.parquet")
	if err := manifesttest.WriteParquet(pqBadType, []manifesttest.Column{
		{Name: "request_id", Node: manifesttest.String}, {Name: "request_type", Node: manifesttest.String},
		{Name: "email", Node: manifesttest.StringList},
	}, [][]any{{"P-1", "access", nil}}, 0); err != nil {
		t.Fatal(err)
	}
	dirCSV := filepath.Join(dir, "folder.csv")
	if err := os.Mkdir(dirCSV, 0o700); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "nosuch.csv")
	return []struct {
		name  string
		args  []string
		names string
	}{
		{"missing file", []string{"--manifest", missing}, missing},
		{"a directory", []string{"--manifest", dirCSV}, dirCSV},
		{"unknown extension", []string{"--manifest", file("m.json", "{}")}, "m.json"},
		{"missing column", []string{"--manifest", noColumn}, noColumn},
		{"header only", []string{"--manifest", unknownType}, unknownType},
		{"not a workbook", []string{"--manifest", notXLSX}, notXLSX},
		{"broken zip", []string{"--manifest", zipNotXLSX}, zipNotXLSX},
		{"workbook missing column", []string{"--manifest", xlsxNoColumn}, xlsxNoColumn},
		{"no such sheet", []string{"--manifest", xlsxGood, "--sheet", "Nope"}, xlsxGood},
		{"not parquet", []string{"--manifest", notParquet}, notParquet},
		{"parquet missing column", []string{"--manifest", pqNoColumn}, pqNoColumn},
		{"parquet column of the wrong type", []string{"--manifest", pqBadType}, pqBadType},
		{"second of two", []string{"--manifest", good, "--manifest", noColumn}, noColumn},
	}
}

// A manifest that cannot be read as a whole (missing, not the format its
// name says, without a required column, ...) is exit 2 before the ledger
// exists: neither --state's directory nor its file is created, by run or
// by load, and run calls no API and says so in summary.json.
func TestUnreadableManifestCreatesNoLedger(t *testing.T) {
	ds, err := ctsim.DemoDataset()
	if err != nil {
		t.Fatal(err)
	}
	sim := startSimServer(t, ds, ctsim.Options{})
	for _, tc := range unreadableManifests(t) {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			noLedger := func(cmd, stateDir string) {
				t.Helper()
				if _, err := os.Lstat(stateDir); !errors.Is(err, os.ErrNotExist) {
					entries, _ := os.ReadDir(stateDir)
					t.Errorf("%s created the ledger's directory (%v), holding %v", cmd, err, entries)
				}
			}
			state := filepath.Join(dir, "run", "l.db")

			out := filepath.Join(dir, "out")
			res := ctdsr(t, append(runArgs(sim, state, out), tc.args...)...)
			if res.code != ExitUsage || !strings.Contains(res.stderr, tc.names) {
				t.Errorf("run: want exit %d naming %s\n%s", ExitUsage, tc.names, res)
			}
			noLedger("run", filepath.Dir(state))
			if n := sim.totalCalls(); n != 0 {
				t.Errorf("run made %d API calls", n)
			}
			if s := readSummary(t, out); s.Outcome != "unreadable_input" || !strings.Contains(s.Error, tc.names) {
				t.Errorf("summary outcome %q error %q; want unreadable_input naming %s", s.Outcome, s.Error, tc.names)
			}

			state = filepath.Join(dir, "load", "l.db")
			res = ctdsr(t, append([]string{"load", "--state", state}, tc.args...)...)
			if res.code != ExitUsage || !strings.Contains(res.stderr, tc.names) {
				t.Errorf("load: want exit %d naming %s\n%s", ExitUsage, tc.names, res)
			}
			noLedger("load", filepath.Dir(state))
		})
	}
}
