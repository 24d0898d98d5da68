package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/ctdsr/ctdsr/batch/report"
	"github.com/ctdsr/ctdsr/checkpoint"
)

// rendered is what writing a selection's reports produced.
type rendered struct {
	Totals report.Totals
	Files  []report.FileDigest // every file written but summary.json
}

// renderReports writes every report of a selection into out, from the
// ledger, and returns their totals and digests. `ctdsr run` and `ctdsr
// report` share it, so both write the same files for the same selection.
func renderReports(ctx context.Context, store *checkpoint.Store, out string, sel report.Selection, dueWithin time.Duration) (rendered, error) {
	var r rendered
	totals, err := report.Write(ctx, out, store, sel, dueWithin)
	if err != nil {
		return r, fmt.Errorf("writing reports: %w", err)
	}
	r.Totals = totals
	names := slices.DeleteFunc(report.Files(), func(n string) bool { return n == report.SummaryFile })
	if r.Files, err = report.Digest(out, names); err != nil {
		return r, err
	}
	return r, nil
}
