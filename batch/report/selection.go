package report

import (
	"errors"
	"time"
)

// Selection says which requests a set of reports covers. Reports are views
// of the ledger, not of one run: by default they hold every request that
// is open, every request closed at or after ClosedSince, and everything
// the run RunID touched (changed, or read in its manifests). All,
// ManifestSHA256 and RequestIDs select otherwise (at most one of them);
// with them, a non-zero ClosedSince keeps only the open requests and those
// closed since.
type Selection struct {
	All            bool
	ManifestSHA256 string
	RequestIDs     []string

	RunID       string
	ClosedSince time.Time

	// Now is the report's time: what "late" and "days open" are measured
	// against for open requests.
	Now time.Time
}

// Explicit reports whether the selection names its requests (All,
// ManifestSHA256 or RequestIDs) rather than taking the default view.
func (s Selection) Explicit() bool {
	return s.All || s.ManifestSHA256 != "" || len(s.RequestIDs) > 0
}

// Validate reports a selection that names its requests in two ways.
func (s Selection) Validate() error {
	n := 0
	for _, set := range []bool{s.All, s.ManifestSHA256 != "", len(s.RequestIDs) > 0} {
		if set {
			n++
		}
	}
	if n > 1 {
		return errors.New("select requests by one of: all, a manifest, request ids")
	}
	if s.Now.IsZero() {
		return errors.New("a report needs its time (Selection.Now)")
	}
	return nil
}
