package ctsim

import (
	_ "embed"
	"fmt"
)

// The demo files are kept here so they can be embedded; testdata/demo/ at
// the top of the repository holds identical copies for people to read and
// edit (a test keeps the two in step).
var (
	//go:embed demodata/dataset.json
	demoDataset []byte
	//go:embed demodata/manifest.csv
	demoManifest []byte
)

// DemoDataset returns a fresh copy of the hand-written demo dataset: 30
// profiles (two sharing sam.shared@example.net, some without identity or
// email) and a few hundred events from October 2025 to January 2026, in
// account DemoAccountID with passcode DemoPasscode, timezone UTC.
func DemoDataset() (*Dataset, error) {
	ds, err := parseDataset(demoDataset)
	if err != nil {
		return nil, fmt.Errorf("demo dataset: %w", err)
	}
	return ds, nil
}

// DemoManifest returns the sample manifest (CSV with header
// request_id,request_type,email,user_id,submitted_at) whose subjects are in
// the demo dataset: found by email, by user id or both, one with two
// profiles sharing an email, and some not in CleverTap at all.
func DemoManifest() []byte {
	return append([]byte(nil), demoManifest...)
}
