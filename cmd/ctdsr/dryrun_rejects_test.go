package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// A dry run of a manifest with bad rows lists every reject as validate
// does (file, row, column, reason; never an email), looks up only the
// valid rows, exits 3 and writes nothing.
func TestDryRunListsRejects(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 47, Profiles: 8, EventsPerProfile: 2})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	ps := subjects(ds, 0, 2)
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{
		{"A-1", "access", ps[0].Email, ps[0].Identity, ""},                 // row 2
		{"D-1", "deletion", ps[1].Email, "", ""},                           // row 3
		{"B-1", "refund", "refund.person@example.com", "", ""},             // row 4: unknown type
		{"B-2", "access", "", "", ""},                                      // row 5: no email or user id
		{"", "access", "no.id@example.com", "", ""},                        // row 6: no request id
		{"B-3", "deletion", "not-an-email", "", ""},                        // row 7: bad email
		{"A-1", "access", "someone.else@example.com", "", ""},              // row 8: id reused, other content
		{"B-4", "access", "dated@example.com", "", "the day before today"}, // row 9: bad date
	})
	state, out := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "out")
	res := ctdsr(t, runArgs(sim, state, out, "--manifest", m, "--dry-run")...)
	if res.code != ExitRowsFailed {
		t.Fatalf("dry run with rejects: want exit %d\n%s", ExitRowsFailed, res)
	}
	for _, want := range []string{
		"rejects: 6\n",
		"  " + m + ":4: request B-1: column request_type: unknown request type \"refund\"",
		"  " + m + ":5: request B-2: needs an email or a user id\n",
		"  " + m + ":6: column request_id: ",
		"  " + m + ":7: request B-3: column email: not a valid email address",
		"  " + m + ":8: request A-1: column request_id: request id already used at " + m + ":2 with different content\n",
		"  " + m + ":9: request B-4: column submitted_at: cannot read \"the day before today\" as a date",
		"2 request(s), 6 reject(s).",
		"Dry run: nothing was deleted and no ledger was written.",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("dry run stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	for _, email := range []string{"refund.person@", "no.id@", "not-an-email", "someone.else@", "dated@", ps[0].Email, ps[1].Email} {
		if strings.Contains(res.stdout+res.stderr, email) {
			t.Errorf("dry run output shows an email (%s)", email)
		}
	}
	// The same listing as validate's.
	code, vout, _ := runValidate(t, "--manifest", m)
	if code != ExitRowsFailed {
		t.Errorf("validate: exit %d, want %d", code, ExitRowsFailed)
	}
	if got, want := rejectBlock(res.stdout), rejectBlock(vout); got != want || want == "" {
		t.Errorf("dry run lists rejects\n%s\nvalidate lists\n%s", got, want)
	}
	// Only the valid rows were looked up: A-1 by email and user id, D-1 by email.
	if n := sim.Stats().Calls["profile"]; n != 3 {
		t.Errorf("dry run made %d lookups, want 3", n)
	}
	for _, f := range []string{state, out} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry run wrote %s", f)
		}
	}
}

// rejectBlock is the "rejects: N" line of a validate-style listing and the
// lines under it.
func rejectBlock(stdout string) string {
	_, after, ok := strings.Cut(stdout, "\nrejects: ")
	if !ok {
		return ""
	}
	block := []string{"rejects: " + strings.SplitN(after, "\n", 2)[0]}
	for _, l := range strings.Split(after, "\n")[1:] {
		if !strings.HasPrefix(l, "  ") {
			break
		}
		block = append(block, l)
	}
	return strings.Join(block, "\n")
}

// A dry run that finds none of 20 subjects warns that the account may be
// the wrong one, as the real run would stop; with --expect-no-matches, or
// with fewer subjects than the guard needs, it does not.
func TestDryRunWarnsOfAnEmptyAccount(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 48, Profiles: 2})
	empty := startSimServer(t, &ctsim.Dataset{Account: ds.Account}, ctsim.Options{})
	const warning = "Warning: no subject of 20 was found in CleverTap account"
	rows := func(n int) []manifestRow {
		var out []manifestRow
		for i := range n {
			out = append(out, manifestRow{fmt.Sprintf("D-%02d", i), "deletion", fmt.Sprintf("gone%02d@example.com", i), "", ""})
		}
		return out
	}
	for _, c := range []struct {
		name  string
		rows  int
		extra []string
		warn  bool
	}{
		{"20 subjects", 20, nil, true},
		{"20 subjects, --expect-no-matches", 20, []string{"--expect-no-matches"}, false},
		{"19 subjects", 19, nil, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := runArgs(empty, filepath.Join(dir, "l.db"), filepath.Join(dir, "out"),
				append([]string{"--manifest", writeManifestCSV(t, dir, rows(c.rows)), "--dry-run"}, c.extra...)...)
			res := ctdsr(t, args...)
			if res.code != ExitOK {
				t.Fatalf("want exit 0\n%s", res)
			}
			if got := strings.Contains(res.stdout, warning); got != c.warn {
				t.Errorf("warning shown: %v, want %v\n%s", got, c.warn, res.stdout)
			}
			if !strings.Contains(res.stdout, "Dry run: nothing was deleted and no ledger was written.") {
				t.Errorf("no closing line\n%s", res.stdout)
			}
		})
	}
}
