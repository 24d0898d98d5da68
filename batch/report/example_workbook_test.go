package report_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/ctdsr/ctdsr/batch/report"
)

func ExampleCreateWorkbook() {
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)

	w, err := report.CreateWorkbook(filepath.Join(dir, report.WorkbookFile))
	if err != nil {
		fmt.Println(err)
		return
	}
	defer w.Abort() // does nothing once Close has succeeded
	due := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	// Rows go in section order: requests, then deletions, then rejects.
	err = errors.Join(
		w.AddRequest(report.RequestRow{RequestID: "R-1", RequestType: "access", Status: "completed", DueAt: &due, EventsExported: 42}),
		w.AddRequest(report.RequestRow{RequestID: "R-2", RequestType: "deletion", Status: "verified", DueAt: &due}),
		w.AddDeletion(report.DeletionRow{RequestID: "R-2", Status: "verified", ObjectIDs: []string{"__a1"}, Checks: 2}),
		w.AddReject(report.RejectRow{SourceFile: "requests.csv", SourceRow: 7, Column: "email", Reason: "not a valid email address: no @"}),
		w.SetSummary([]report.SummaryItem{{Label: "Run", Value: "2024-03-02 nightly"}, {Label: "Overdue", Value: 0}}),
	)
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := w.Close(); err != nil {
		fmt.Println(err)
		return
	}

	f, err := excelize.OpenFile(w.Path())
	if err != nil {
		fmt.Println(err)
		return
	}
	defer f.Close()
	fmt.Println(f.GetSheetList())
	rows, _ := f.GetRows("Requests")
	fmt.Println(rows[0][:6])
	events, _ := f.GetCellValue("Requests", "J2")
	fmt.Println("events of R-1:", events)
	// Output:
	// [Summary Requests Deletions Rejects]
	// [Request ID Type Status Late Submitted (UTC) Due (UTC)]
	// events of R-1: 42
}
