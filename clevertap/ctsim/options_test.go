package ctsim

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts Options
	}{
		{"not-found mode", Options{NotFoundMode: "maybe"}},
		{"multi-match", Options{MultiMatch: "random"}},
		{"profile filter", Options{ProfileFilter: "sometimes"}},
		{"not-ready status", Options{NotReadyHTTPStatus: 204}},
		{"negative not-ready", Options{NotReadyPages: -1}},
		{"negative delay", Options{DeletionDelay: -time.Hour}},
		{"limit group", Options{Limits: map[string]int{"everything": 2}}},
		{"latency group", Options{Latency: map[string]time.Duration{"nope": time.Second}}},
		{"negative latency", Options{Latency: map[string]time.Duration{"events": -time.Second}}},
		{"fault rate", Options{FaultRate: 1.5}},
		{"fault kind", Options{FaultKinds: []Fault{"404"}}},
		{"batch default", Options{BatchSizeDefault: 5001}},
		{"over-max mode", Options{BatchSizeOverMax: "wrap"}},
		{"negative TTL", Options{EventsCursorTTL: -1}},
		{"negative RPS", Options{RPS: -1}},
		{"negative padding", Options{PadProfileBytes: -1}},
		{"negative step-1 pending", Options{Step1Pending: -1}},
		{"step-1 body without pending", Options{Step1PendingBody: "{}"}},
		{"empty unexportable name", Options{UnexportableEvents: []string{" "}}},
		{"redirect to a path", Options{RedirectTo: "https://elsewhere.example/x"}},
		{"redirect without a host", Options{RedirectTo: "https://"}},
		{"redirect to ftp", Options{RedirectTo: "ftp://elsewhere.example"}},
		{"lookup fail status without text", Options{LookupFailStatus: 400}},
		{"lookup fail status 302", Options{LookupFailText: "x", LookupFailStatus: 302}},
		{"lookup fail status 99", Options{LookupFailText: "x", LookupFailStatus: 99}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(fixture(), tt.opts)
			if !errors.Is(err, ErrInvalidOptions) {
				t.Errorf("got %v, want ErrInvalidOptions", err)
			}
		})
	}
}

func TestNewRejectsBadDataset(t *testing.T) {
	tests := []struct {
		name   string
		change func(ds *Dataset)
	}{
		{"no account id", func(ds *Dataset) { ds.Account.ID = "" }},
		{"no passcode", func(ds *Dataset) { ds.Account.Passcodes = []string{""} }},
		{"bad region", func(ds *Dataset) { ds.Account.Region = "zz9" }},
		{"bad timezone", func(ds *Dataset) { ds.Account.Timezone = "Mars/Olympus" }},
		{"duplicate objectId", func(ds *Dataset) { ds.Profiles[1].Devices[0].ObjectID = adaIOS }},
		{"profile without device", func(ds *Dataset) { ds.Profiles[0].Devices = nil }},
		{"event of unknown device", func(ds *Dataset) { ds.Events[0].ObjectID = "-nobody" }},
		{"event without name", func(ds *Dataset) { ds.Events[0].Name = "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := fixture()
			tt.change(ds)
			if _, err := New(ds, Options{}); !errors.Is(err, ErrInvalidDataset) {
				t.Errorf("got %v, want ErrInvalidDataset", err)
			}
		})
	}
	if _, err := New(nil, Options{}); !errors.Is(err, ErrInvalidDataset) {
		t.Errorf("nil dataset: %v", err)
	}
}

func TestNewCopiesDataset(t *testing.T) {
	ds := fixture()
	s, err := New(ds, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ds.Profiles[0].ProfileData["City"] = "changed"
	ds.Profiles[0].Devices[0].Platform = "changed"
	p := s.Lookup("", "u-1")[0]
	if p.ProfileData["City"] != "Lisbon" || p.Devices[0].Platform != "iOS" {
		t.Errorf("the server shares the caller's data: %+v", p)
	}
	if !s.Now().Equal(DefaultNow) {
		t.Errorf("Now = %v, want %v", s.Now(), DefaultNow)
	}
}

func TestLoadDataset(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	if err := os.WriteFile(good, []byte(mustJSON(t, fixture())), 0o600); err != nil {
		t.Fatal(err)
	}
	ds, err := LoadDataset(good)
	if err != nil || len(ds.Profiles) != 4 || len(ds.Events) != 6 {
		t.Fatalf("LoadDataset: %v, %+v", err, ds)
	}
	bad := filepath.Join(dir, "bad.json")
	if err := os.WriteFile(bad, []byte(`{"profiles": [`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDataset(bad); err == nil {
		t.Error("LoadDataset accepted truncated JSON")
	}
	if _, err := LoadDataset(filepath.Join(dir, "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v, want os.ErrNotExist", err)
	}
}
