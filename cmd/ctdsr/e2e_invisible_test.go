package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// A deletion row whose user id ends in an invisible ZERO WIDTH SPACE is a
// reject naming the row, the column and the character, through the whole
// command: nothing is looked up or deleted for it, the subject's profile is
// still there, and the clean row next to it is carried out.
func TestRunRejectsInvisibleCharacters(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 23, Profiles: 6})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	ps := subjects(ds, 0, 2)
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{
		{"D-1", "deletion", "", ps[0].Identity + "\u200b", ""},
		{"D-2", "deletion", ps[1].Email, ps[1].Identity, ""},
	})
	out := filepath.Join(dir, "out")
	res := ctdsr(t, runArgs(sim, filepath.Join(dir, "l.db"), out, "--manifest", m)...)
	if res.code != ExitRowsFailed {
		t.Fatalf("want exit 3 (a row rejected)\n%s", res)
	}
	if strings.Contains(res.stderr, ps[0].Identity) {
		t.Errorf("the log shows the rejected row's user id\n%s", res.stderr)
	}
	o := readOutputs(t, out)
	if len(o.Rejects) != 1 {
		t.Fatalf("rejects %s, want one", show(o.Rejects))
	}
	r := o.Rejects[0]
	if r.RequestID != "D-1" || r.SourceRow != 2 || r.Column != "user_id" || !strings.Contains(r.Reason, "U+200B ZERO WIDTH SPACE") {
		t.Errorf("reject %s, want D-1 at row 2, column user_id, naming U+200B ZERO WIDTH SPACE", show(r))
	}
	byID := requestByID(o.Requests)
	if _, ok := byID["D-1"]; ok {
		t.Errorf("the rejected row became a request: %s", show(byID["D-1"]))
	}
	if got := byID["D-2"].Status; got != "verified" {
		t.Errorf("D-2: %s (%s), want verified", got, byID["D-2"].Detail)
	}
	if ids, _ := groundTruth(t, sim, "", ps[0].Identity); len(ids) == 0 {
		t.Errorf("the profile of the rejected row's subject was deleted")
	}
	if ids, _ := groundTruth(t, sim, ps[1].Email, ps[1].Identity); len(ids) != 0 {
		t.Errorf("D-2's subject still has profiles %v", ids)
	}
}
