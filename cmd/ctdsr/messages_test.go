package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// Mistakes get one line and a hint on stderr, with a guess at what was
// meant; --help goes to stdout; --version and -v work.
func TestMessages(t *testing.T) {
	for _, c := range []struct {
		args           []string
		code           int
		stdout, stderr string
	}{
		{[]string{"run", "--verfy-window", "3s"}, ExitUsage, "",
			"ctdsr: unknown flag --verfy-window; did you mean --verify-window?\nctdsr: see 'ctdsr run --help'\n"},
		{[]string{"statsu"}, ExitUsage, "", "ctdsr: unknown subcommand \"statsu\"; did you mean status?\nctdsr: see 'ctdsr help'\n"},
		{[]string{"status", "--zzz"}, ExitUsage, "", "ctdsr: unknown flag --zzz\nctdsr: see 'ctdsr status --help'\n"},
		{[]string{"--version"}, ExitOK, "ctdsr dev\n", ""},
		{[]string{"-v"}, ExitOK, "ctdsr dev\n", ""},
	} {
		res := ctdsr(t, c.args...)
		if res.code != c.code || res.stdout != c.stdout || res.stderr != c.stderr {
			t.Errorf("ctdsr %s:\n got %s\nwant exit %d, stdout %q, stderr %q", strings.Join(c.args, " "), res, c.code, c.stdout, c.stderr)
		}
	}
	if res := ctdsr(t, "run", "--help"); res.code != ExitOK || !strings.HasPrefix(res.stdout, "Usage: ctdsr run") || res.stderr != "" {
		t.Errorf("run --help: want the usage on stdout only\n%s", res)
	}
}

// A manifest that cannot be opened stops the run before a ledger is
// created for it, and a run that only rejected rows points at
// rejects.parquet.
func TestRunMessagesNameTheRightFile(t *testing.T) {
	sim := startSimServer(t, ctsim.Generate(ctsim.GenOptions{Seed: 41, Profiles: 3}), ctsim.Options{})
	dir := t.TempDir()
	state := filepath.Join(dir, "s", "l.db")
	res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"), "--manifest", filepath.Join(dir, "nosuch.csv"))...)
	if res.code != ExitUsage || strings.Count(res.stderr, "nosuch.csv") != 1 {
		t.Errorf("missing manifest: want exit 2 naming it once\n%s", res)
	}
	if _, err := os.Stat(filepath.Dir(state)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the ledger's directory was created for a manifest that cannot be read (%v)", err)
	}
	m := writeManifestCSV(t, dir, []manifestRow{{"B-1", "refund", "x@example.com", "", ""}, {"A-1", "access", "nobody@example.com", "", ""}})
	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"), "--manifest", m)...)
	if res.code != ExitRowsFailed || !strings.Contains(res.stderr, "rejects.parquet") || strings.Contains(res.stderr, "requests.parquet") {
		t.Errorf("a run with only a reject: want exit 3 pointing at rejects.parquet only\n%s", res)
	}
}
