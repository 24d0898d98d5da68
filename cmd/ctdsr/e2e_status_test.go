package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ctdsr/ctdsr/clevertap/ctsim"
)

// statusFixture is a ledger after one run holding a request of every kind
// `ctdsr status` counts, due dates taken from submitted_at (due 30 days
// later):
//
//	A-LATE   access, due 10 days ago, done by the run: late (closed after due)
//	A-OK     access, due in 25 days, done: not late
//	D-OVER   deletion, due 5 days ago, submitted and awaiting verification:
//	         open, overdue and late
//	D-SOON   deletion, due in 4 days, awaiting verification: open, due soon
//	D-LATER  deletion, due in 30 days, awaiting verification: open
//	C-MIX    access whose email and user id are two people's: conflict
type statusFixture struct {
	state, out string
	res        result // the run's
}

func newStatusFixture(t *testing.T) statusFixture {
	t.Helper()
	ds := ctsim.Generate(ctsim.GenOptions{Seed: 41, Profiles: 16, EventsPerProfile: 2})
	sim := startSimServer(t, ds, ctsim.Options{DeletionDelay: 48 * time.Hour})
	ps := subjects(ds, 0, 7)
	now := time.Now().UTC()
	ago := func(days int) string { return now.Add(-time.Duration(days) * 24 * time.Hour).Format(time.RFC3339) }
	dir := t.TempDir()
	m := writeManifestCSV(t, dir, []manifestRow{
		{"A-LATE", "access", ps[0].Email, ps[0].Identity, ago(40)},
		{"A-OK", "access", ps[1].Email, ps[1].Identity, ago(5)},
		{"D-OVER", "deletion", ps[2].Email, ps[2].Identity, ago(35)},
		{"D-SOON", "deletion", ps[3].Email, ps[3].Identity, ago(26)},
		{"D-LATER", "deletion", ps[4].Email, ps[4].Identity, ago(0)},
		{"C-MIX", "access", ps[5].Email, ps[6].Identity, ago(1)},
	})
	f := statusFixture{state: filepath.Join(dir, "ledger.db"), out: filepath.Join(dir, "out")}
	f.res = ctdsr(t, runArgs(sim, f.state, f.out, "--manifest", m, "--verify-window", "0s")...)
	if f.res.code != ExitRowsFailed { // the conflict needs review
		t.Fatalf("run: want exit 3\n%s", f.res)
	}
	return f
}

// A request completed after its due date and one still open past it are
// both late, in `ctdsr status` (text and JSON) and in summary.json; one
// done in time is not.
func TestStatusCountsLate(t *testing.T) {
	f := newStatusFixture(t)

	s := readSummary(t, f.out)
	if s.Ledger.Late != 2 || s.Ledger.Open != 3 || s.Ledger.Requests != 6 {
		t.Errorf("summary.json ledger: requests %d open %d late %d; want 6, 3 and 2 (A-LATE, D-OVER)",
			s.Ledger.Requests, s.Ledger.Open, s.Ledger.Late)
	}
	if s.Reports.Late != 2 || s.Reports.Overdue != 1 || s.Reports.DueSoon != 1 {
		t.Errorf("summary.json reports: late %d overdue %d due soon %d; want 2, 1 and 1",
			s.Reports.Late, s.Reports.Overdue, s.Reports.DueSoon)
	}

	res := ctdsr(t, "status", "--state", f.state, "--json")
	if res.code != ExitOK {
		t.Fatalf("status --json: %s", res)
	}
	var st struct {
		Requests int `json:"requests"`
		Open     int `json:"open"`
		Overdue  int `json:"overdue"`
		DueSoon  int `json:"due_soon"`
		Late     int `json:"late"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &st); err != nil {
		t.Fatalf("status --json does not parse: %v\n%s", err, res.stdout)
	}
	if st.Requests != 6 || st.Open != 3 || st.Overdue != 1 || st.DueSoon != 1 || st.Late != 2 {
		t.Errorf("status --json %+v; want 6 requests, open 3, overdue 1, due soon 1, late 2", st)
	}

	res = ctdsr(t, "status", "--state", f.state)
	if want := "open 3; overdue 1; due within 7d 1; late 2\n"; res.code != ExitOK || !strings.Contains(res.stdout, want) {
		t.Errorf("status lacks %q\n%s", want, res)
	}
}

// Every list of `ctdsr status --list`, as text and as JSON, holds exactly
// its requests, the earliest due first.
func TestStatusLists(t *testing.T) {
	f := newStatusFixture(t)
	for _, tc := range []struct {
		list string
		want []string
	}{
		{"open", []string{"D-OVER", "D-SOON", "D-LATER"}},
		{"overdue", []string{"D-OVER"}},
		{"due-soon", []string{"D-SOON"}},
		{"late", []string{"A-LATE", "D-OVER"}},
		{"conflict", []string{"C-MIX"}},
	} {
		t.Run(tc.list, func(t *testing.T) {
			res := ctdsr(t, "status", "--state", f.state, "--list", tc.list)
			if res.code != ExitOK {
				t.Fatalf("status --list %s: %s", tc.list, res)
			}
			lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
			var got []string
			for _, l := range lines[1 : len(lines)-1] { // between the heading and the count
				got = append(got, strings.Fields(l)[0])
			}
			if !strings.HasPrefix(lines[0], "REQUEST") || !slices.Equal(got, tc.want) ||
				lines[len(lines)-1] != fmt.Sprintf("%d %s request(s)", len(tc.want), tc.list) {
				t.Errorf("status --list %s: requests %v, want %v\n%s", tc.list, got, tc.want, res.stdout)
			}

			res = ctdsr(t, "status", "--state", f.state, "--list", tc.list, "--json")
			if res.code != ExitOK {
				t.Fatalf("status --list %s --json: %s", tc.list, res)
			}
			var listed []struct {
				RequestID   string     `json:"request_id"`
				Type        string     `json:"request_type"`
				Status      string     `json:"status"`
				DueAt       *time.Time `json:"due_at"`
				CompletedAt *time.Time `json:"completed_at"`
			}
			if err := json.Unmarshal([]byte(res.stdout), &listed); err != nil {
				t.Fatalf("status --list %s --json does not parse: %v\n%s", tc.list, err, res.stdout)
			}
			got = nil
			for _, r := range listed {
				got = append(got, r.RequestID)
				if r.DueAt == nil {
					t.Errorf("%s: no due_at", r.RequestID)
				}
				closed := r.CompletedAt != nil
				if wantClosed := !strings.HasPrefix(r.RequestID, "D-"); closed != wantClosed { // deletions await verification
					t.Errorf("%s: completed_at %v, want it set: %v", r.RequestID, r.CompletedAt, wantClosed)
				}
				if tc.list == "conflict" && r.Status != "conflict" {
					t.Errorf("%s: status %q in the conflict list", r.RequestID, r.Status)
				}
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("status --list %s --json: %v, want %v\n%s", tc.list, got, tc.want, res.stdout)
			}
		})
	}
}
