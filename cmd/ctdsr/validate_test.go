package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/parquet-go/parquet-go"

	"github.com/ctdsr/ctdsr/batch/manifest/manifesttest"
	"github.com/ctdsr/ctdsr/batch/report"
)

const manifests = "../../testdata/manifests/"

// runValidate drives the real command line and returns the exit code and
// both outputs.
func runValidate(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := &Env{Stdout: &out, Stderr: &errOut, Getenv: func(string) string { return "" }}
	err := run(t.Context(), env, append([]string{"validate"}, args...))
	return exitCode(t.Context(), env, err), out.String(), errOut.String()
}

func writeManifest(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestValidateClean(t *testing.T) {
	path := writeManifest(t, "clean.csv", "id,type,email,uid\nA,access,a@example.com,\nB,rtbf,,u-2\nA,Access,A@example.com,\n")
	code, out, errOut := runValidate(t, "--manifest", path)
	if code != ExitOK || errOut != "" {
		t.Fatalf("exit %d, stderr %q; want 0 and nothing", code, errOut)
	}
	for _, want := range []string{
		"manifests: 1\n",
		"  " + path + ": csv, 3 rows, sha256 ",
		"requests: 2 (access 1, deletion 1)\n",
		"duplicates merged: 1\n",
		"rejects: 0\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
}

func TestValidateRejectsWithOut(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	messy, semi := manifests+"messy.csv", manifests+"semicolon.csv"
	code, out, errOut := runValidate(t, "--manifest", messy, "--manifest", semi, "--out", dir)
	if code != ExitRowsFailed {
		t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, ExitRowsFailed, out, errOut)
	}
	if want := "ctdsr: 16 rejects: some rows failed or were rejected\n"; errOut != want {
		t.Errorf("stderr = %q, want %q", errOut, want)
	}
	for _, want := range []string{
		"manifests: 2\n",
		"  " + messy + ": csv, 21 rows (2 blank skipped), sha256 ",
		`    ignored columns: "Notes", "Agent Name"` + "\n",
		"  " + semi + ": csv, 5 rows, sha256 ",
		"requests: 9 (access 5, deletion 4)\n",
		"duplicates merged: 1\n",
		"rejects: 16\n",
		"  " + messy + ":8: request R-1006: column request_type: unknown request type \"refund\"; use access or deletion\n",
		"  " + messy + ":13: request R-1011: needs an email or a user id\n",
		"  " + semi + ":6: request C-5: column submitted_at: cannot read \"03.04.2024\" as a date;",
		"rejects written to " + filepath.Join(dir, report.RejectsFile) + "\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	// Emails never appear, even those of rejected rows.
	for _, email := range []string{"alice@", "erin@", "not-an-email", "grace@", "heidi@", "ivan@", "ben,smith@", "clara@"} {
		if strings.Contains(out+errOut, email) {
			t.Errorf("output shows an email (%s)", email)
		}
	}

	rows, err := parquet.ReadFile[report.RejectRow](filepath.Join(dir, report.RejectsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 16 {
		t.Fatalf("rejects.parquet has %d rows, want 16", len(rows))
	}
	want := report.RejectRow{SourceFile: messy, SourceRow: 10, RequestID: "R-1008", Column: "email",
		Reason: "not a valid email address: no @"}
	if !slices.Contains(rows, want) {
		t.Errorf("rejects.parquet lacks %+v; has %+v", want, rows)
	}
	last := rows[len(rows)-1]
	if last.SourceFile != semi || last.SourceRow != 6 || last.Column != "submitted_at" {
		t.Errorf("last reject = %+v; want semicolon.csv row 6, submitted_at", last)
	}
}

func TestValidateListsTheFirst20(t *testing.T) {
	var b strings.Builder
	b.WriteString("id,type,email\n")
	for i := range 25 {
		fmt.Fprintf(&b, "R-%d,refund,a@example.com\n", i)
	}
	path := writeManifest(t, "bad.csv", b.String())
	code, out, _ := runValidate(t, "--manifest", path)
	listed := strings.Count(out, ": column request_type: unknown request type")
	if code != ExitRowsFailed || listed != 20 || !strings.Contains(out, "  … and 5 more (use --out DIR to write them all)\n") {
		t.Errorf("exit %d, %d rejects listed; want 3, 20 and a note of 5 more:\n%s", code, listed, out)
	}
}

func TestValidateUnreadable(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	bad, worse := manifests+"unreadable/missing-column.csv", manifests+"unreadable/open-quote.csv"
	tests := []struct {
		name   string
		args   []string
		stderr string
	}{
		{"one", []string{"--manifest", bad, "--manifest", manifests + "tabs.tsv", "--out", dir},
			"ctdsr: " + bad + `: row 1: missing required column request_type (found: "Ticket", "E-mail", "Notes")` + "\n"},
		{"two", []string{"--manifest", bad, "--manifest", worse},
			"ctdsr: " + bad + `: row 1: missing required column request_type (found: "Ticket", "E-mail", "Notes")` +
				" (and 1 more unreadable manifests, listed above)\n"},
		{"missing file", []string{"--manifest", manifests + "nope.csv"},
			"ctdsr: " + manifests + "nope.csv: cannot open: no such file or directory\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runValidate(t, tt.args...)
			if code != ExitUsage || errOut != tt.stderr {
				t.Errorf("exit %d, stderr %q; want 2, %q", code, errOut, tt.stderr)
			}
			if !strings.Contains(out, "unreadable: ") {
				t.Errorf("stdout does not list the unreadable manifest:\n%s", out)
			}
		})
	}
	// The file-level reject is in rejects.parquet, with the tsv's reject.
	rows, err := parquet.ReadFile[report.RejectRow](filepath.Join(dir, report.RejectsFile))
	if err != nil {
		t.Fatal(err)
	}
	want := report.RejectRow{SourceFile: bad, SourceRow: 1,
		Reason: `missing required column request_type (found: "Ticket", "E-mail", "Notes")`}
	if len(rows) != 2 || rows[0] != want {
		t.Errorf("rejects = %+v; want [%+v, the tsv's reject]", rows, want)
	}
}

func TestValidateWorkbookSheet(t *testing.T) {
	path := filepath.Join(t.TempDir(), "book.xlsx")
	err := manifesttest.WriteXLSX(path, manifesttest.Workbook{Sheets: []manifesttest.Sheet{
		{Name: "Notes", Rows: [][]any{{"nothing here"}}},
		{Name: "Requests", Rows: [][]any{{"Ticket", "Action", "E-mail"}, {"T-1", "erasure", "t@example.com"}}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runValidate(t, "--manifest", path, "--sheet", "Requests")
	if code != ExitOK || !strings.Contains(out, `: xlsx sheet "Requests", 1 rows`) || !strings.Contains(out, "requests: 1 (access 0, deletion 1)") {
		t.Errorf("exit %d; want 0 and the sheet's request\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	code, _, errOut = runValidate(t, "--manifest", path, "--sheet", "Nope")
	if want := `no such sheet "Nope"; the workbook has "Notes", "Requests"`; code != ExitUsage || !strings.Contains(errOut, want) {
		t.Errorf("exit %d, stderr %q; want 2 naming the sheets", code, errOut)
	}
}

func TestValidateUsage(t *testing.T) {
	for _, args := range [][]string{nil, {"--manifest"}, {"--manifest", "a.csv", "extra"}, {"--bogus"}} {
		code, _, errOut := runValidate(t, args...)
		if code != ExitUsage || !strings.Contains(errOut, "see 'ctdsr validate --help'") {
			t.Errorf("validate %q: exit %d, stderr %q; want 2 with a hint", args, code, errOut)
		}
	}
	code, out, _ := runValidate(t, "--help")
	if code != ExitOK || !strings.Contains(out, "Usage: ctdsr validate --manifest FILE") {
		t.Errorf("--help: exit %d, stdout %q", code, out)
	}
}
