package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// mixedManifest builds a manifest of access and deletion requests for
// distinct subjects of ds, requests for nobody, merged and conflicting
// duplicates and bad rows. bad lists the data rows (spreadsheet numbering:
// header = 1) that must end up in rejects.parquet.
func mixedManifest(ds *ctsim.Dataset) (rows []manifestRow, access, deletion []ctsim.Profile, bad []int) {
	ps := subjects(ds, 0, 8)
	access, deletion = ps[:4], ps[4:8]
	rows = []manifestRow{
		{"A-01", "access", access[0].Email, access[0].Identity, "2026-01-02T10:00:00Z"},
		{"A-02", "sar", strings.ToUpper(access[1].Email), "", "2026-01-02"},
		{"A-03", "export", "", access[2].Identity, ""},
		{"A-04", "access", access[3].Email, access[3].Identity, ""},
		{"A-05", "access", "nobody.here@example.com", "", ""},
		{"D-01", "deletion", deletion[0].Email, deletion[0].Identity, "2026-01-03"},
		{"D-02", "rtbf", deletion[1].Email, "", ""},
		{"D-03", "erasure", "", deletion[2].Identity, ""},
		{"D-04", "delete", deletion[3].Email, deletion[3].Identity, ""},
		{"D-05", "deletion", "", "u-999999", ""},
		{"A-01", "access", access[0].Email, access[0].Identity, "2026-01-02T10:00:00Z"}, // merged repeat
		{"A-02", "access", "someone.else@example.com", "", ""},                          // conflicting repeat
		{"B-01", "refund", "x@example.com", "", ""},                                     // unknown type
		{"B-02", "access", "", "", ""},                                                  // no email or user id
		{"", "access", "y@example.com", "", ""},                                         // no request id
		{"B-03", "deletion", "not-an-email", "", ""},                                    // bad email
	}
	return rows, access, deletion, []int{13, 14, 15, 16, 17}
}

// TestRunMixedManifest is the full run: every manifest row ends up exactly
// once in requests ∪ rejects, access events equal the simulator's ground
// truth without duplicates in every profile-filter mode, the files have
// the documented Parquet types and owner-only permissions, summary.json
// agrees with them, and the exit code is 3 because rows were rejected.
func TestRunMixedManifest(t *testing.T) {
	for _, mode := range []string{"apply", "ignore", "reject"} {
		t.Run("filter_"+mode, func(t *testing.T) {
			ds := ctsim.Generate(ctsim.GenOptions{Seed: 11, Profiles: 24, EventsPerProfile: 4})
			sim := startSimServer(t, ds, ctsim.Options{ProfileFilter: mode, NoDeletionDelay: true})
			rows, access, deletion, bad := mixedManifest(ds)
			dir := t.TempDir()
			mpath := writeManifestCSV(t, dir, rows)
			state, out := filepath.Join(dir, "state", "ledger.db"), filepath.Join(dir, "out")
			truth := map[string][]string{}
			truthIDs := map[string][]string{}
			for i, p := range access {
				id := fmt.Sprintf("A-%02d", i+1)
				truthIDs[id], truth[id] = groundTruth(t, sim, p.Email, p.Identity)
				if len(truth[id]) == 0 {
					t.Fatalf("subject of %s has no events: pick another seed", id)
				}
			}

			res := ctdsr(t, runArgs(sim, state, out, "--manifest", mpath)...)
			if res.code != ExitRowsFailed {
				t.Fatalf("want exit 3 (rows rejected)\n%s", res)
			}
			o := readOutputs(t, out)

			// Every manifest row exactly once in requests ∪ rejects.
			rejectedRows := map[int64]int{}
			for _, r := range o.Rejects {
				rejectedRows[r.SourceRow]++
				if r.SourceFile != mpath {
					t.Errorf("reject names file %q, want %q", r.SourceFile, mpath)
				}
			}
			reqs := map[string]int{}
			for _, r := range o.Requests {
				reqs[r.RequestID]++
			}
			for i, row := range rows {
				n := int64(i + 2)
				if slices.Contains(bad, int(n)) {
					if rejectedRows[n] != 1 {
						t.Errorf("row %d (%s): %d rejects, want 1", n, row.ID, rejectedRows[n])
					}
					continue
				}
				if rejectedRows[n] != 0 || reqs[row.ID] != 1 {
					t.Errorf("row %d (%s): %d rejects and %d requests, want 0 and 1", n, row.ID, rejectedRows[n], reqs[row.ID])
				}
			}
			if len(o.Rejects) != len(bad) || len(o.Requests) != 10 {
				t.Errorf("%d rejects and %d requests, want %d and 10", len(o.Rejects), len(o.Requests), len(bad))
			}

			// Statuses.
			byID := requestByID(o.Requests)
			want := map[string]string{"A-01": "done", "A-02": "done", "A-03": "done", "A-04": "done", "A-05": "not_found",
				"D-01": "verified", "D-02": "verified", "D-03": "verified", "D-04": "verified", "D-05": "not_found"}
			for id, st := range want {
				if byID[id].Status != st {
					t.Errorf("%s: status %q (%s), want %q", id, byID[id].Status, byID[id].Detail, st)
				}
			}
			if got := byID["A-02"].Email; got != strings.ToLower(access[1].Email) {
				t.Errorf("A-02 email %q, want it lower-cased", got)
			}
			if byID["A-01"].SubmittedAt == nil || !byID["A-01"].SubmittedAt.Equal(time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)) ||
				byID["A-01"].DueAt == nil || !byID["A-01"].DueAt.Equal(time.Date(2026, 2, 1, 10, 0, 0, 0, time.UTC)) {
				t.Errorf("A-01 submitted %v due %v", byID["A-01"].SubmittedAt, byID["A-01"].DueAt)
			}

			// Access events equal the ground truth, with no duplicates.
			got := map[string][]string{}
			for _, e := range o.Events {
				got[e.RequestID] = append(got[e.RequestID], eventKey(e.ObjectID, e.EventName, e.EventTime, e.EventPropsJSON, e.SessionPropsJSON))
			}
			for id, evs := range truth {
				g := slices.Sorted(slices.Values(got[id]))
				if !slices.Equal(g, evs) {
					t.Errorf("%s: %d events exported, ground truth has %d\nextra:   %q\nmissing: %q", id, len(g), len(evs), minus(g, evs), minus(evs, g))
				}
				if len(slices.Compact(slices.Clone(g))) != len(g) {
					t.Errorf("%s: duplicate events exported", id)
				}
				if r := byID[id]; r.EventsExported != int64(len(evs)) || r.ProfilesFound != 1 {
					t.Errorf("%s: events_exported %d profiles_found %d, want %d and 1", id, r.EventsExported, r.ProfilesFound, len(evs))
				}
			}
			if len(got) != len(truth) {
				t.Errorf("events for %d requests, want %d", len(got), len(truth))
			}
			for _, p := range o.Profiles {
				if !slices.Equal(slices.Sorted(slices.Values(p.ObjectIDs)), slices.Sorted(slices.Values(truthIDs[p.RequestID]))) {
					t.Errorf("%s: profile object_ids %v, want %v", p.RequestID, p.ObjectIDs, truthIDs[p.RequestID])
				}
			}
			if len(o.Profiles) != 4 {
				t.Errorf("%d access profiles, want 4", len(o.Profiles))
			}
			wantMatched := map[string]string{"A-01": "both", "A-02": "email", "A-03": "identity", "A-04": "both"}
			for _, p := range o.Profiles {
				if p.MatchedBy != wantMatched[p.RequestID] {
					t.Errorf("%s: matched_by %q, want %q", p.RequestID, p.MatchedBy, wantMatched[p.RequestID])
				}
			}

			// Deletions: gone from the simulator, reported with their ids.
			dels := deletionByID(o.Deletions)
			for i, p := range deletion {
				id := fmt.Sprintf("D-%02d", i+1)
				if left := sim.Lookup(p.Email, p.Identity); len(left) != 0 {
					t.Errorf("%s: %d profiles still in the simulator", id, len(left))
				}
				var ids []string
				for _, d := range p.Devices {
					ids = append(ids, d.ObjectID)
				}
				slices.Sort(ids)
				if d := dels[id]; !slices.Equal(d.ObjectIDs, ids) || d.Status != "verified" || d.VerifiedAt == nil || d.DeleteRequestedAt == nil || d.Checks < 1 {
					t.Errorf("%s: deletion row %s, want verified with object_ids %v", id, show(d), ids)
				}
			}
			if len(o.Deletions) != 5 {
				t.Errorf("%d deletion rows, want 5", len(o.Deletions))
			}

			if mode != "apply" {
				return // the rest does not depend on the filter mode
			}
			// The files' own schemas.
			for file, want := range wantColumns {
				if got := columns(t, filepath.Join(out, file)); !slices.Equal(got, want) {
					t.Errorf("%s columns:\n got %q\nwant %q", file, got, want)
				}
			}
			// summary.json agrees with the files.
			s := readSummary(t, out)
			b, _ := os.ReadFile(mpath)
			sha := sha256.Sum256(b)
			switch {
			case s.Outcome != "rows_failed" || s.RunID == "" || !s.EndedAt.After(s.StartedAt):
				t.Errorf("summary: outcome %q run %q times %v..%v", s.Outcome, s.RunID, s.StartedAt, s.EndedAt)
			case len(s.Manifests) != 1 || s.Manifests[0].SHA256 != hex.EncodeToString(sha[:]) || s.Manifests[0].Rows != len(rows):
				t.Errorf("summary manifests %+v", s.Manifests)
			case s.Reports.Requests != len(o.Requests) || s.Reports.Profiles != int64(len(o.Profiles)) ||
				s.Reports.Events != int64(len(o.Events)) || s.Reports.Rejects != int64(len(o.Rejects)):
				t.Errorf("summary reports %+v; files have %d requests, %d profiles, %d events, %d rejects",
					s.Reports, len(o.Requests), len(o.Profiles), len(o.Events), len(o.Rejects))
			case !reflect.DeepEqual(s.Reports.ByStatus, statusesOf(o.Requests)):
				t.Errorf("summary by_status %v, files %v", s.Reports.ByStatus, statusesOf(o.Requests))
			case s.Import.Added != 10 || s.Import.Merged != 1 || s.Import.Conflicts != 1 || s.Import.Rejected+s.Import.Conflicts != len(bad):
				t.Errorf("summary import %+v", s.Import)
			case sum(s.API.Calls) != sim.totalCalls() || sum(s.API.Calls) == 0:
				t.Errorf("summary api calls %v, simulator saw %v", s.API.Calls, sim.Stats().Calls)
			}
			// Owner-only files; a ledger directory only its owner enters.
			checkMode(t, out, 0o700)
			checkMode(t, filepath.Join(out, report.SummaryFile), 0o600)
			for _, f := range s.OutputFiles {
				checkMode(t, filepath.Join(out, f.Name), 0o600)
			}
			if got, want := len(s.OutputFiles), len(report.Files())-1; got != want {
				t.Errorf("summary lists %d output files, want %d (every file but summary.json)", got, want)
			}
			if problems := report.Verify(out, s.OutputFiles); len(problems) > 0 {
				t.Errorf("the files do not match their digests in summary.json: %q", problems)
			}
			checkMode(t, state, 0o600)
			checkMode(t, filepath.Dir(state), 0o700)
			// No personal data in the logs at the default level.
			for _, p := range append(access, deletion...) {
				if strings.Contains(res.stderr, p.Email) || strings.Contains(res.stdout, p.Email) {
					t.Errorf("output shows the email %s", p.Email)
				}
			}
			if !strings.Contains(res.stdout, "rejects   5") || !strings.Contains(res.stdout, "reports in "+out) {
				t.Errorf("stdout lacks the totals:\n%s", res.stdout)
			}
		})
	}
}

// minus returns the elements of a that are not in b.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// TestRunCleanExitsZero: a manifest without bad rows whose requests all
// reach a good status exits 0, and a second run on the same ledger with
// the same manifest does nothing new and still exits 0.
func TestRunCleanExitsZero(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 12, Profiles: 8, EventsPerProfile: 3})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	ps := subjects(ds, 0, 2)
	dir := t.TempDir()
	mpath := writeManifestCSV(t, dir, []manifestRow{
		{"C-1", "access", ps[0].Email, "", ""},
		{"C-2", "deletion", "", ps[1].Identity, ""},
		{"C-3", "access", "nobody@example.com", "", ""},
	})
	state := filepath.Join(dir, "ledger.db")
	res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out1"), "--manifest", mpath)...)
	if res.code != ExitOK {
		t.Fatalf("want exit 0\n%s", res)
	}
	first := readOutputs(t, filepath.Join(dir, "out1"))
	calls := sim.totalCalls()
	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out2"), "--manifest", mpath)...)
	if res.code != ExitOK {
		t.Fatalf("second run: want exit 0\n%s", res)
	}
	if n := sim.totalCalls(); n != calls {
		t.Errorf("second run made %d API calls, want none", n-calls)
	}
	if s := readSummary(t, filepath.Join(dir, "out2")); len(s.Manifests) != 1 || !s.Manifests[0].AlreadyLoaded {
		t.Errorf("second run's manifests: %+v", s.Manifests)
	}
	diffOutputs(t, readOutputs(t, filepath.Join(dir, "out2")), first)
}

// TestRunDeletionsVerifiedAcrossRuns: on a manual simulator clock run 1
// sends the deletes and leaves them submitted; after the clock passes the
// deletion delay, run 2 without --manifest verifies them.
func TestRunDeletionsVerifiedAcrossRuns(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 13, Profiles: 10, EventsPerProfile: 3})
	// The engine stamps deletes with its own (real) clock; start the
	// simulator's clock there so both agree on what came before the delete.
	sim := startSimServer(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour, Now: time.Now().UTC()})
	ps := subjects(ds, 0, 3)
	dir := t.TempDir()
	mpath := writeManifestCSV(t, dir, []manifestRow{
		{"D-1", "deletion", ps[0].Email, ps[0].Identity, ""},
		{"D-2", "deletion", ps[1].Email, "", ""},
		{"A-1", "access", ps[2].Email, "", ""},
	})
	state := filepath.Join(dir, "ledger.db")

	res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out1"), "--manifest", mpath, "--progress-every", "100ms")...)
	if res.code != ExitOK {
		t.Fatalf("run 1: want exit 0\n%s", res)
	}
	// Not a terminal: progress comes as log lines, with the run id.
	runID := readSummary(t, filepath.Join(dir, "out1")).RunID
	if !strings.Contains(res.stderr, "level=INFO msg=progress run_id="+runID+" ") {
		t.Errorf("no progress log line during a 400ms verification window:\n%s", res.stderr)
	}
	o1 := readOutputs(t, filepath.Join(dir, "out1"))
	for _, d := range o1.Deletions {
		if d.Status != "submitted" || d.DeleteRequestedAt == nil || d.VerifiedAt != nil || d.Checks < 1 {
			t.Errorf("run 1: %s", show(d))
		}
	}
	if len(o1.Deletions) != 2 || len(sim.PendingDeletions()) == 0 {
		t.Fatalf("run 1: %d deletion rows, %d objectIds pending in the simulator", len(o1.Deletions), len(sim.PendingDeletions()))
	}
	st := sim.Stats()
	var ids int
	for _, p := range ps[:2] {
		ids += len(p.Devices) + 1 // every objectId, and the identity
	}
	if st.DeleteCalls != 2 || st.DeleteIDs != int64(ids) {
		t.Errorf("run 1: %d delete calls with %d ids; want the two subjects batched: 2 calls (guids, identities), %d ids",
			st.DeleteCalls, st.DeleteIDs, ids)
	}

	sim.Advance(49 * time.Hour)
	res = ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out2"))...)
	if res.code != ExitOK {
		t.Fatalf("run 2: want exit 0\n%s", res)
	}
	o2 := readOutputs(t, filepath.Join(dir, "out2"))
	// Reports are the ledger's view: the access request closed in run 1 is
	// still in them (within the report window), though run 2 did not touch it.
	if len(o2.Requests) != 3 || len(o2.Rejects) != 0 {
		t.Errorf("run 2 reports %d requests and %d rejects; want all three requests of the ledger", len(o2.Requests), len(o2.Rejects))
	}
	before := deletionByID(o1.Deletions)
	for _, d := range o2.Deletions {
		if d.Status != "verified" || d.VerifiedAt == nil || d.Checks <= before[d.RequestID].Checks ||
			!d.DeleteRequestedAt.Equal(*before[d.RequestID].DeleteRequestedAt) {
			t.Errorf("run 2: %s", show(d))
		}
	}
	if st := sim.Stats(); st.DeleteCalls != 2 {
		t.Errorf("run 2 sent %d more delete calls", st.DeleteCalls-2)
	}
	if s := readSummary(t, filepath.Join(dir, "out2")); s.Outcome != "ok" || len(s.Manifests) != 0 {
		t.Errorf("run 2 summary: outcome %q manifests %v", s.Outcome, s.Manifests)
	}
}

// TestRunReappeared: a subject re-created after the deletion took effect
// is reported as reappeared, with exit 3.
func TestRunReappeared(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 14, Profiles: 6, EventsPerProfile: 3})
	sim := startSimServer(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour, Now: time.Now().UTC()})
	p := subjects(ds, 0, 1)[0]
	dir := t.TempDir()
	mpath := writeManifestCSV(t, dir, []manifestRow{{"D-1", "deletion", p.Email, p.Identity, ""}})
	state := filepath.Join(dir, "ledger.db")
	if res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out1"), "--manifest", mpath)...); res.code != ExitOK {
		t.Fatalf("run 1: want exit 0\n%s", res)
	}
	sim.Advance(49 * time.Hour)
	if left := sim.Lookup(p.Email, p.Identity); len(left) != 0 {
		t.Fatalf("the deletion did not take effect: %d profiles left", len(left))
	}
	newID := sim.Recreate(p.Identity, p.Email)
	sim.Advance(time.Minute)

	res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out2"))...)
	if res.code != ExitRowsFailed {
		t.Fatalf("run 2: want exit 3\n%s", res)
	}
	o := readOutputs(t, filepath.Join(dir, "out2"))
	if len(o.Deletions) != 1 || o.Deletions[0].Status != "reappeared" || !strings.Contains(o.Deletions[0].Detail, newID) {
		t.Fatalf("run 2 deletions: %s", show(o.Deletions))
	}
	if r := o.Requests[0]; r.Status != "reappeared" || r.CompletedAt == nil {
		t.Errorf("run 2 request: %s", show(r))
	}
	if len(sim.Lookup(p.Email, p.Identity)) != 1 {
		t.Errorf("the re-created profile was deleted; it must be left for a person to decide")
	}
}

// TestRunBadCredentials: refused credentials stop the run at once with
// exit 1: no retry, one request per worker at most.
func TestRunBadCredentials(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 15, Profiles: 30, EventsPerProfile: 2})
	ps := subjects(ds, 0, 20)
	var rows []manifestRow
	for i, p := range ps {
		rows = append(rows, manifestRow{fmt.Sprintf("R-%02d", i), []string{"access", "deletion"}[i%2], p.Email, p.Identity, ""})
	}
	for _, workers := range []string{"1", "16"} {
		t.Run("workers_"+workers, func(t *testing.T) {
			sim := startSimServer(t, ds, ctsim.Options{})
			dir := t.TempDir()
			mpath := writeManifestCSV(t, dir, rows)
			out := filepath.Join(dir, "out")
			res := ctdsrEnv(t, t.Context(), credentials("wrong-passcode"),
				runArgs(sim, filepath.Join(dir, "ledger.db"), out, "--manifest", mpath, "--workers", workers)...)
			if res.code != ExitFatal || !strings.Contains(res.stderr, "credentials") {
				t.Fatalf("want exit 1 naming the credentials\n%s", res)
			}
			if strings.Contains(res.stderr, "wrong-passcode") {
				t.Errorf("stderr shows the passcode")
			}
			s := readSummary(t, out)
			n := sim.HTTP.Load()
			// Every request the simulator saw was a first attempt: nothing
			// was retried, and each worker stopped after its first call.
			if s.Outcome != "fatal" || sum(s.API.Retries) != 0 || sum(s.API.Attempts) < n || n == 0 {
				t.Errorf("summary: outcome %q calls %v attempts %v retries %v; simulator saw %d requests",
					s.Outcome, s.API.Calls, s.API.Attempts, s.API.Retries, n)
			}
			if workers == "1" && n != 1 {
				t.Errorf("one worker made %d requests, want 1", n)
			}
			if n > 16 {
				t.Errorf("%d requests after the credentials were refused", n)
			}
			if sim.Stats().DeleteCalls != 0 {
				t.Errorf("deleted with refused credentials?")
			}
			o := readOutputs(t, out)
			for _, r := range o.Requests {
				if r.Status != "pending" {
					t.Errorf("%s: status %q after a fatal stop, want pending", r.RequestID, r.Status)
				}
			}
		})
	}
}

// TestRunLocked: a second run on a ledger another run holds exits 1 at
// once, naming the holder, and touches nothing.
func TestRunLocked(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 16, Profiles: 4})
	sim := startSimServer(t, ds, ctsim.Options{})
	dir := t.TempDir()
	state := filepath.Join(dir, "ledger.db")
	store, err := checkpoint.Open(t.Context(), state, checkpoint.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	holder, err := store.BeginRun(t.Context(), checkpoint.RunInfo{Args: []string{"run"}, ToolVersion: "test"})
	if err != nil {
		t.Fatal(err)
	}
	mpath := writeManifestCSV(t, dir, []manifestRow{{"R-1", "access", ds.Profiles[0].Email, "", ""}})
	res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"), "--manifest", mpath)...)
	host, _ := os.Hostname()
	if res.code != ExitFatal || !errors.Is(res.err, checkpoint.ErrLocked) {
		t.Fatalf("want exit 1 for a locked ledger\n%s", res)
	}
	for _, want := range []string{holder, fmt.Sprintf("pid %d on host %s", os.Getpid(), host)} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, res.stderr)
		}
	}
	if n := sim.HTTP.Load(); n != 0 {
		t.Errorf("a locked-out run made %d API calls", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a locked-out run wrote reports: %v", err)
	}
	// Released, the ledger is usable again.
	if err := store.EndRun(t.Context(), holder, "ok"); err != nil {
		t.Fatal(err)
	}
	if res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"), "--manifest", mpath)...); res.code != ExitOK {
		t.Errorf("after the lock was released: %s", res)
	}
}

// TestStatusAfterRun: `ctdsr status` (table and --json) counts what the
// run's reports show, without calling the API.
func TestStatusAfterRun(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 17, Profiles: 20, EventsPerProfile: 2})
	sim := startSimServer(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour})
	rows, _, _, bad := mixedManifest(ds)
	dir := t.TempDir()
	mpath := writeManifestCSV(t, dir, rows)
	state, out := filepath.Join(dir, "ledger.db"), filepath.Join(dir, "out")
	if res := ctdsr(t, runArgs(sim, state, out, "--manifest", mpath, "--verify-window", "0s")...); res.code != ExitRowsFailed {
		t.Fatalf("run: want exit 3\n%s", res)
	}
	o := readOutputs(t, out)
	calls := sim.HTTP.Load()

	res := ctdsr(t, "status", "--state", state, "--json")
	if res.code != ExitOK {
		t.Fatalf("status --json: %s", res)
	}
	var st struct {
		Requests  int                       `json:"requests"`
		ByStatus  map[string]map[string]int `json:"by_status"`
		Open      int                       `json:"open"`
		Overdue   int                       `json:"overdue"`
		Manifests int                       `json:"manifests"`
		Rejects   int                       `json:"rejects"`
		Runs      int                       `json:"runs"`
		Locked    bool                      `json:"locked"`
		LastRun   map[string]any            `json:"last_run"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		t.Fatalf("status --json does not parse: %v\n%s", err, res.stdout)
	}
	runID := readSummary(t, out).RunID
	switch {
	case st.Requests != len(o.Requests) || st.Rejects != len(bad) || st.Manifests != 1 || st.Runs != 1 || st.Locked:
		t.Errorf("status: %+v; reports have %d requests, %d rejects", st, len(o.Requests), len(o.Rejects))
	case !reflect.DeepEqual(st.ByStatus, statusesOf(o.Requests)):
		t.Errorf("status by_status %v, requests.parquet %v", st.ByStatus, statusesOf(o.Requests))
	case st.Open != 4 || st.Overdue != 1: // the four submitted deletions, of which D-01 was due in February
		t.Errorf("status open %d overdue %d, want 4 and 1", st.Open, st.Overdue)
	case st.LastRun["run_id"] != runID || st.LastRun["outcome"] != "rows_failed":
		t.Errorf("status last_run %v, want run %s with outcome rows_failed", st.LastRun, runID)
	}

	res = ctdsr(t, "status", "--state", state)
	if res.code != ExitOK {
		t.Fatalf("status: %s", res)
	}
	for _, want := range []string{
		fmt.Sprintf("ledger %s: %d request(s) from 1 manifest(s), %d reject(s), 1 run(s)", state, len(o.Requests), len(bad)),
		"deletion  submitted  4", "access    done       4", "open 4; overdue", "last run: " + runID,
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, res.stdout)
		}
	}
	// One line per request of a list, the most urgent first.
	res = ctdsr(t, "status", "--state", state, "--list", "overdue")
	if res.code != ExitOK || !strings.Contains(res.stdout, "D-01") || strings.Contains(res.stdout, "D-02") ||
		!strings.Contains(res.stdout, "1 overdue request(s)") {
		t.Errorf("status --list overdue: want D-01 only\n%s", res)
	}
	res = ctdsr(t, "status", "--state", state, "--list", "open", "--json")
	var listed []struct {
		RequestID string `json:"request_id"`
		Status    string `json:"status"`
		DaysOpen  int    `json:"days_open"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &listed); err != nil || len(listed) != 4 || listed[0].RequestID != "D-01" {
		t.Errorf("status --list open --json: %v %+v; want the 4 submitted deletions, D-01 (due first) first\n%s", err, listed, res)
	}
	if res := ctdsr(t, "status", "--state", state, "--list", "urgent"); res.code != ExitUsage {
		t.Errorf("status --list urgent: want exit 2\n%s", res)
	}
	if n := sim.HTTP.Load(); n != calls {
		t.Errorf("status called the API %d times", n-calls)
	}
	if res := ctdsr(t, "status", "--state", filepath.Join(dir, "none.db")); res.code != ExitUsage {
		t.Errorf("status of a missing ledger: %s", res)
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("status created a ledger")
	}
}

// TestDryRun: --dry-run prints matches and a projection, deletes nothing
// and writes no ledger.
func TestDryRun(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 18, Profiles: 12, EventsPerProfile: 3})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	ps := subjects(ds, 0, 3)
	dir := t.TempDir()
	mpath := writeManifestCSV(t, dir, []manifestRow{
		{"A-1", "access", ps[0].Email, ps[0].Identity, ""},
		{"D-1", "deletion", ps[1].Email, ps[1].Identity, ""},
		{"D-2", "deletion", "", ps[2].Identity, ""},
		{"D-3", "deletion", "nobody@example.com", "", ""},
	})
	state := filepath.Join(dir, "ledger.db")
	res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"), "--manifest", mpath, "--dry-run")...)
	if res.code != ExitOK {
		t.Fatalf("dry run: want exit 0\n%s", res)
	}
	for _, want := range []string{"REQUEST", "A-1", "D-1", "D-2", "not found", "Projected API calls: profile ",
		"the run would take about", "Dry run: nothing was deleted and no ledger was written."} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, res.stdout)
		}
	}
	st := sim.Stats()
	if st.DeleteCalls != 0 || st.Calls["delete"] != 0 || st.Calls["events"] != 0 {
		t.Errorf("dry run made calls %v, %d deletes", st.Calls, st.DeleteCalls)
	}
	if st.Calls["profile"] != 6 {
		t.Errorf("dry run made %d lookups, want 6 (one per email or user id)", st.Calls["profile"])
	}
	for _, p := range ps {
		if len(sim.Lookup(p.Email, p.Identity)) == 0 {
			t.Errorf("dry run deleted a profile")
		}
	}
	for _, f := range []string{state, filepath.Join(dir, "out")} {
		if _, err := os.Stat(f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("dry run wrote %s", f)
		}
	}
}

// TestDemo: `ctdsr demo` runs the sample manifest end to end and prints
// the table.
func TestDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("the demo waits about 20 s for deletions to be verified")
	}
	t.Parallel()
	out := filepath.Join(t.TempDir(), "d")
	res := ctdsrEnv(t, t.Context(), func(string) string { return "" }, "demo", "--out", out)
	if res.code != ExitOK {
		t.Fatalf("demo: %s", res)
	}
	for _, want := range []string{
		"REQUEST       TYPE      STATUS     PROFILES  EVENTS  DETAIL",
		"DSR-2026-001  access    done       1         10",
		"DSR-2026-002  deletion  verified",
		"DSR-2026-006  deletion  not_found",
		"DSR-2026-011  access    not_found",
		"Reports: " + filepath.Join(out, "reports"),
		"(report.xlsx, Parquet, access packages in access/ with SHA256SUMS, summary.json)",
		"See the ledger: ctdsr status --state " + filepath.Join(out, "ledger.db"),
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("demo output lacks %q:\n%s", want, res.stdout)
		}
	}
	o := readOutputs(t, filepath.Join(out, "reports"))
	if len(o.Requests) != 12 || len(o.Deletions) != 6 || len(o.Rejects) != 0 || len(o.Events) == 0 {
		t.Errorf("demo reports: %d requests, %d deletions, %d rejects, %d events", len(o.Requests), len(o.Deletions), len(o.Rejects), len(o.Events))
	}
	for _, d := range o.Deletions {
		if d.Status != "verified" && d.Status != "not_found" {
			t.Errorf("demo deletion %s", show(d))
		}
	}
	for _, r := range o.Requests {
		if r.Status == "pending" || r.Status == "failed" {
			t.Errorf("demo request %s", show(r))
		}
	}
	if _, err := os.Stat(filepath.Join(out, "reports", report.SummaryFile)); err != nil {
		t.Error(err)
	}
}

// TestRunCompleteOnSubmit: with --deletion-complete-on submit an accepted
// delete is done: reported "submitted", not counted as due or overdue, and
// the run exits 0 without waiting for verification.
func TestRunCompleteOnSubmit(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 19, Profiles: 6, EventsPerProfile: 2})
	p := subjects(ds, 0, 1)[0]
	submitted := time.Now().UTC().Add(-25 * 24 * time.Hour).Format(time.RFC3339) // due in 5 days
	for _, tc := range []struct {
		flag    string
		dueSoon int
	}{{"submit", 0}, {"verified", 1}} {
		t.Run(tc.flag, func(t *testing.T) {
			sim := startSimServer(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour})
			dir := t.TempDir()
			mpath := writeManifestCSV(t, dir, []manifestRow{{"D-1", "deletion", p.Email, p.Identity, submitted}})
			out := filepath.Join(dir, "out")
			res := ctdsr(t, runArgs(sim, filepath.Join(dir, "ledger.db"), out, "--manifest", mpath,
				"--deletion-complete-on", tc.flag, "--verify-window", "0s")...)
			if res.code != ExitOK {
				t.Fatalf("want exit 0\n%s", res)
			}
			o := readOutputs(t, out)
			if len(o.Deletions) != 1 || o.Deletions[0].Status != "submitted" || o.Deletions[0].DeleteRequestedAt == nil {
				t.Fatalf("deletions: %s", show(o.Deletions))
			}
			if s := readSummary(t, out); s.Reports.DueSoon != tc.dueSoon || s.Reports.Overdue != 0 {
				t.Errorf("summary due_soon %d overdue %d, want %d and 0", s.Reports.DueSoon, s.Reports.Overdue, tc.dueSoon)
			}
			if got := strings.Contains(res.stdout, "due within 7 days"); got != (tc.dueSoon > 0) {
				t.Errorf("stdout shows a due line: %v\n%s", got, res.stdout)
			}
			// The ledger agrees: in submit mode the accepted delete is closed.
			st := ctdsr(t, "status", "--state", filepath.Join(dir, "ledger.db"), "--json")
			var js struct {
				Open    int `json:"open"`
				DueSoon int `json:"due_soon"`
			}
			if err := json.Unmarshal([]byte(st.stdout), &js); err != nil {
				t.Fatalf("status --json: %v\n%s", err, st)
			}
			if js.Open != tc.dueSoon || js.DueSoon != tc.dueSoon {
				t.Errorf("status --json open %d due_soon %d, want %d and %d", js.Open, js.DueSoon, tc.dueSoon, tc.dueSoon)
			}
		})
	}
}

// TestRunOutputNotWritable: an --out that cannot be written is found before
// any API call (not after the deletes were sent), exits 1, and the ledger
// records the run as fatal rather than ok.
func TestRunOutputNotWritable(t *testing.T) {
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 20, Profiles: 6, EventsPerProfile: 2})
	sim := startSimServer(t, ds, ctsim.Options{NoDeletionDelay: true})
	p := subjects(ds, 0, 1)[0]
	dir := t.TempDir()
	mpath := writeManifestCSV(t, dir, []manifestRow{{"D-1", "deletion", p.Email, p.Identity, ""}})
	out := filepath.Join(dir, "taken")
	if err := os.WriteFile(out, []byte("not a directory"), 0o600); err != nil {
		t.Fatal(err)
	}
	state := filepath.Join(dir, "ledger.db")
	res := ctdsr(t, runArgs(sim, state, out, "--manifest", mpath)...)
	if res.code != ExitFatal || !strings.Contains(res.stderr, out) {
		t.Fatalf("want exit 1 naming %s\n%s", out, res)
	}
	if n := sim.HTTP.Load(); n != 0 {
		t.Errorf("%d API calls before finding the output unwritable", n)
	}
	st := ctdsr(t, "status", "--state", state, "--json")
	var s struct {
		LastRun struct {
			Outcome string `json:"outcome"`
		} `json:"last_run"`
	}
	if err := json.Unmarshal([]byte(st.stdout), &s); err != nil || s.LastRun.Outcome != "fatal" {
		t.Errorf("ledger records the run as %q, want fatal (%v)\n%s", s.LastRun.Outcome, err, st)
	}
	// Fixed, the same ledger carries the request out.
	if res := ctdsr(t, runArgs(sim, state, filepath.Join(dir, "out"), "--manifest", mpath)...); res.code != ExitOK {
		t.Errorf("after fixing --out: %s", res)
	}
}

// TestRunDeletionSharedEmail: a deletion by email for a person with two
// profiles sharing it deletes both — the one profile.json shows, and at
// verification the older one it hid — and ends verified.
func TestRunDeletionSharedEmail(t *testing.T) {
	sim := startSimServer(t, sharedEmailDataset(), ctsim.Options{NoDeletionDelay: true})
	dir := t.TempDir()
	mpath := writeManifestCSV(t, dir, []manifestRow{{"D-1", "deletion", "sam@example.com", "", ""}})
	out := filepath.Join(dir, "out")
	if res := ctdsr(t, runArgs(sim, filepath.Join(dir, "ledger.db"), out, "--manifest", mpath, "--verify-window", "2s")...); res.code != ExitOK {
		t.Fatalf("want exit 0\n%s", res)
	}
	if left := sim.Lookup("sam@example.com", "u-1"); len(left) != 0 {
		t.Errorf("%d profiles of the subject left", len(left))
	}
	if len(sim.Lookup("other@example.com", "")) != 1 {
		t.Errorf("another subject's profile was deleted")
	}
	o := readOutputs(t, out)
	if d := o.Deletions[0]; d.Status != "verified" || !slices.Equal(d.ObjectIDs, []string{"__new", "__old"}) || d.Checks < 2 {
		t.Errorf("deletion: %s", show(d))
	}
}
