package main

import (
	"context"
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
// ledger: the Parquet files, report.xlsx, the access packages and their
// checksums; it returns the totals and the digests. `ctdsr run` and
// `ctdsr report` share it, so both write the same files for the same
// selection. head are the first rows of the workbook's Summary sheet.
func renderReports(ctx context.Context, store *checkpoint.Store, out string, sel report.Selection, dueWithin time.Duration,
	zone *time.Location, head []report.SummaryItem) (rendered, error) {
	var r rendered
	totals, err := report.Write(ctx, out, store, sel, report.Options{DueSoon: dueWithin, Zone: zone,
		Summary: func(t report.Totals) []report.SummaryItem { return workbookSummary(head, sel, t, dueWithin) }})
	if err != nil {
		return r, err
	}
	r.Totals = totals
	names := slices.DeleteFunc(report.Files(), func(n string) bool { return n == report.SummaryFile })
	if r.Files, err = report.Digest(out, names); err != nil {
		return r, err
	}
	return r, nil
}

// workbookSummary is the Summary sheet: what the reports hold.
func workbookSummary(head []report.SummaryItem, sel report.Selection, t report.Totals, dueWithin time.Duration) []report.SummaryItem {
	items := slices.Clone(head)
	items = append(items,
		report.SummaryItem{Label: "Reported at (UTC)", Value: sel.Now.UTC()},
		report.SummaryItem{Label: "Requests in these reports", Value: t.Requests},
	)
	for _, typ := range []string{"access", "deletion"} {
		for _, st := range sortedKeys(t.ByStatus[typ]) {
			items = append(items, report.SummaryItem{Label: typ + " " + st, Value: t.ByStatus[typ][st]})
		}
	}
	return append(items,
		report.SummaryItem{Label: "Overdue (open past their due date)", Value: t.Overdue},
		report.SummaryItem{Label: "Due within " + formatDuration(dueWithin), Value: t.DueSoon},
		report.SummaryItem{Label: "Late (done after their due date, or open past it)", Value: t.Late},
		report.SummaryItem{Label: "Profiles exported", Value: t.Profiles},
		report.SummaryItem{Label: "Events exported", Value: t.Events},
		report.SummaryItem{Label: "Access packages (access/)", Value: t.Packages},
		report.SummaryItem{Label: "Rejected manifest rows", Value: t.Rejects},
	)
}

func sortedKeys(m map[string]int) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
