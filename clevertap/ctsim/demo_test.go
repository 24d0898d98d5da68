package ctsim

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"testing"
)

func TestDemoFilesInStep(t *testing.T) {
	for _, f := range []struct {
		name     string
		embedded []byte
	}{{"dataset.json", demoDataset}, {"manifest.csv", demoManifest}} {
		top, err := os.ReadFile(filepath.Join("..", "..", "testdata", "demo", f.name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(top, f.embedded) {
			t.Errorf("testdata/demo/%s differs from clevertap/ctsim/demodata/%s; copy one over the other", f.name, f.name)
		}
	}
}

func TestDemoDatasetMatchesManifest(t *testing.T) {
	ds, err := DemoDataset()
	if err != nil {
		t.Fatal(err)
	}
	if len(ds.Profiles) < 25 || len(ds.Events) < 200 || ds.Account.ID != DemoAccountID || ds.Account.Passcodes[0] != DemoPasscode {
		t.Fatalf("demo dataset: %d profiles, %d events, account %+v", len(ds.Profiles), len(ds.Events), ds.Account)
	}
	s, err := New(ds, Options{})
	if err != nil {
		t.Fatalf("New(demo): %v", err)
	}
	// How many live profiles each request's subject has in CleverTap.
	want := map[string]int{
		"DSR-2026-001": 1, // by email and user id, same profile
		"DSR-2026-002": 1, // by email
		"DSR-2026-003": 1, // by user id
		"DSR-2026-004": 1,
		"DSR-2026-005": 2, // two profiles share the email
		"DSR-2026-006": 0, // not in CleverTap
		"DSR-2026-007": 1, // email in another case
		"DSR-2026-008": 1, // profile without identity
		"DSR-2026-009": 1, // profile without email
		"DSR-2026-010": 2, // user id plus the orphan sharing its email
		"DSR-2026-011": 0, // unknown user id
		"DSR-2026-012": 1,
	}
	rows, err := csv.NewReader(bytes.NewReader(DemoManifest())).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := rows[0]; len(got) != 5 || got[0] != "request_id" || got[4] != "submitted_at" {
		t.Fatalf("manifest header %v", got)
	}
	seen := 0
	for _, row := range rows[1:] {
		id, email, user := row[0], row[2], row[3]
		n, ok := want[id]
		if !ok {
			t.Errorf("manifest row %s has no expectation", id)
			continue
		}
		seen++
		if got := s.Lookup(email, user); len(got) != n {
			t.Errorf("%s (%q, %q): %d profiles, want %d", id, email, user, len(got), n)
		}
		for _, p := range s.Lookup(email, user) {
			if len(s.EventsOf(p.Devices[0].ObjectID)) == 0 && len(p.Devices) == 1 {
				t.Errorf("%s: profile %s has no events", id, p.Devices[0].ObjectID)
			}
		}
	}
	if seen != len(want) {
		t.Errorf("manifest has %d of the %d expected rows", seen, len(want))
	}
}
