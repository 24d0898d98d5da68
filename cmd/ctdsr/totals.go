package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/ctdsr/ctdsr/batch/report"
)

// printTotals writes the short table a person reads at the end of a run.
func printTotals(w io.Writer, runID, out string, t report.Totals, dueWithin time.Duration) {
	fmt.Fprintf(w, "run %s\n", runID)
	types := make([]string, 0, len(t.ByStatus))
	for typ := range t.ByStatus {
		types = append(types, typ)
	}
	sort.Strings(types)
	for _, typ := range types {
		statuses := make([]string, 0, len(t.ByStatus[typ]))
		for st := range t.ByStatus[typ] {
			statuses = append(statuses, st)
		}
		sort.Strings(statuses)
		parts := make([]string, 0, len(statuses))
		for _, st := range statuses {
			parts = append(parts, fmt.Sprintf("%s %d", st, t.ByStatus[typ][st]))
		}
		fmt.Fprintf(w, "  %-9s %s\n", typ, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "  rejects   %d\n", t.Rejects)
	fmt.Fprintf(w, "  exported  %d profile(s), %d event(s)\n", t.Profiles, t.Events)
	if t.Overdue+t.DueSoon > 0 {
		fmt.Fprintf(w, "  due       %d overdue, %d due within %d days\n", t.Overdue, t.DueSoon, dueWithin/(24*time.Hour))
	}
	fmt.Fprintf(w, "reports in %s\n", out)
}
